/**
 * Task queues. The pipeline queue runs the workflow and the CPU stages; GAN training has its own
 * queue so that it can be served by GPU workers on other machines, while any number of cheap CPU
 * workers serve the rest.
 */
export const PIPELINE_TASK_QUEUE = 'textgan-pipeline';
export const TRAIN_TASK_QUEUE = 'textgan-train';
