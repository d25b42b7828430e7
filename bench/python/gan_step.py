"""Time training steps of the study's LSTM GAN in PyTorch on the CPU.

Generator: noise [batch, seq, input] -> 2 stacked LSTMs (hidden 20, batch_first) -> flatten ->
dense to seq * input -> reshape to [batch, seq, input].
Discriminator: 2 stacked LSTMs (hidden 20, dropout 0.5 between them) -> output at the last time
step -> dense 20 -> LeakyReLU(0.2) -> dropout 0.5 -> dense 1 -> sigmoid.
Both use SGD with momentum 0.9 and learning rate 0.0005, gradients clipped to a global norm of
100. The discriminator minimises binary cross-entropy on a real and a generated batch, and the
generator minimises binary cross-entropy of D(G(z)) toward the label "real".

Usage: python gan_step.py --seq-len 40 --batch 64 --steps 5 [--threads N]
Runs one untimed warm-up step, then times --steps steps on fresh N(0, 1) batches, and prints one
result line (see common.py) with the step times in seconds.
"""

import argparse
import time

import torch
from torch import nn

from common import emit_result

HIDDEN = 20
LAYERS = 2
DROPOUT = 0.5
INPUT_SIZE = 1


class Generator(nn.Module):
    def __init__(self, seq_len: int, input_size: int):
        super().__init__()
        self.seq_len = seq_len
        self.input_size = input_size
        self.lstm = nn.LSTM(input_size, HIDDEN, num_layers=LAYERS, batch_first=True)
        self.dense = nn.Linear(seq_len * HIDDEN, seq_len * input_size)

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        output, _ = self.lstm(noise)
        flat = output.reshape(noise.shape[0], -1)
        return self.dense(flat).reshape(noise.shape[0], self.seq_len, self.input_size)


class Discriminator(nn.Module):
    def __init__(self, input_size: int):
        super().__init__()
        self.lstm = nn.LSTM(input_size, HIDDEN, num_layers=LAYERS, batch_first=True, dropout=DROPOUT)
        self.head = nn.Sequential(
            nn.Linear(HIDDEN, HIDDEN),
            nn.LeakyReLU(0.2),
            nn.Dropout(DROPOUT),
            nn.Linear(HIDDEN, 1),
            nn.Sigmoid(),
        )

    def forward(self, samples: torch.Tensor) -> torch.Tensor:
        output, _ = self.lstm(samples)
        return self.head(output[:, -1, :])


def make_optimizer(model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=0.0005, momentum=0.9)


def train_step(generator, discriminator, g_optimizer, d_optimizer, real: torch.Tensor) -> None:
    loss = nn.BCELoss()
    batch = real.shape[0]
    ones = torch.ones(batch, 1)
    zeros = torch.zeros(batch, 1)

    d_optimizer.zero_grad()
    fake = generator(torch.randn_like(real)).detach()
    d_loss = loss(discriminator(real), ones) + loss(discriminator(fake), zeros)
    d_loss.backward()
    nn.utils.clip_grad_norm_(discriminator.parameters(), 100)
    d_optimizer.step()

    g_optimizer.zero_grad()
    g_loss = loss(discriminator(generator(torch.randn_like(real))), ones)
    g_loss.backward()
    nn.utils.clip_grad_norm_(generator.parameters(), 100)
    g_optimizer.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq-len", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads; 0 keeps torch's default")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(1)

    generator = Generator(args.seq_len, INPUT_SIZE)
    discriminator = Discriminator(INPUT_SIZE)
    g_optimizer = make_optimizer(generator)
    d_optimizer = make_optimizer(discriminator)
    generator.train()
    discriminator.train()

    shape = (args.batch, args.seq_len, INPUT_SIZE)
    train_step(generator, discriminator, g_optimizer, d_optimizer, torch.randn(shape))
    step_seconds = []
    for _ in range(args.steps):
        real = torch.randn(shape)
        start = time.perf_counter()
        train_step(generator, discriminator, g_optimizer, d_optimizer, real)
        step_seconds.append(time.perf_counter() - start)
    emit_result(
        {
            "backend": "pytorch",
            "threads": torch.get_num_threads(),
            "seqLen": args.seq_len,
            "batchSize": args.batch,
            "stepSeconds": step_seconds,
        }
    )


if __name__ == "__main__":
    main()
