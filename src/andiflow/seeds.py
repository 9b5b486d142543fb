"""Every random seed of the workflow comes from here, so any single output can be rebuilt alone."""

import zlib

import numpy as np


def derive_seed(base: int, stage: str, *keys: int) -> int:
    """A 32-bit seed for (base seed, stage, length, shard or fold), independent of job order."""
    entropy = [base, zlib.crc32(stage.encode()), *keys]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])
