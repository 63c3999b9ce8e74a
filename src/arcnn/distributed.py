"""Data-parallel training under ``torchrun``: which process this is, and what the processes agree on.

``torchrun --standalone --nproc_per_node N -m arcnn train ...`` starts N processes with ``RANK``,
``WORLD_SIZE`` and ``LOCAL_RANK`` set; plain ``arcnn train`` is one process, and then every method
here is a no-op. Each step all processes draw the same global batch of ``N x batch`` crops from
(seed, step) and each trains on its own share, so N processes with a per-process batch of B/N
follow one process with batch B. Gradients are averaged by ``DistributedDataParallel`` (gloo on
the CPU, NCCL on CUDA); process 0 alone validates, logs and writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

__all__ = ["Processes"]


@dataclass(frozen=True)
class Processes:
    """This process's place among the training processes (rank 0 of 1 without torchrun)."""

    rank: int = 0
    world: int = 1

    @classmethod
    def start(cls, device: torch.device) -> Processes:
        """Join the process group ``torchrun`` set up, if any (``device``: cuda gets NCCL)."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls()
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        return cls(dist.get_rank(), world)

    @property
    def main(self) -> bool:
        """The process that validates, logs and writes files."""
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()

    def wrap(self, model: nn.Module) -> nn.Module:
        """``model`` for the training steps: gradients averaged over the processes."""
        if self.world == 1:
            return model
        return nn.parallel.DistributedDataParallel(model)

    def share(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """This process's part of the global batch (N, ...): rows rank * N / world onward."""
        n = x.shape[0] // self.world
        return x[self.rank * n : (self.rank + 1) * n], y[self.rank * n : (self.rank + 1) * n]

    def agree(self, loss: torch.Tensor, *flags: bool) -> tuple[torch.Tensor, tuple[bool, ...]]:
        """The mean of every process's ``loss``, and process 0's ``flags`` (validate, save, stop:
        decisions that depend on its clock), so that all processes take the same branches."""
        if self.world == 1:
            return loss, flags
        mine = [float(f) if self.main else 0.0 for f in flags]
        t = torch.cat([loss.detach().float().reshape(1), torch.tensor(mine, device=loss.device)])
        dist.all_reduce(t)
        return t[0] / self.world, tuple(bool(v > 0) for v in t[1:].tolist())

    def stop(self) -> None:
        if self.world > 1 and dist.is_initialized():
            dist.destroy_process_group()
