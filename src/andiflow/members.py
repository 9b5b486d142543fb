"""The members of an ensemble as callables from z-scored windows to raw outputs, in bounded batches: in
ONNX Runtime (what users' predictions run; no PyTorch needed) or in PyTorch (on a GPU)."""

import os

import numpy as np

from andiflow.errors import ModelFileError


def one_thread_session(path, optimisation=None):
    """ONNX Runtime's session of a network on one thread (its own threads make these small networks
    slower; workers.py spreads networks over cores). `optimisation`: a graph optimisation level other
    than ONNX Runtime's default (benchmarks/onnx_levels.py)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3  # its warnings are about graph details, not the user's data
    if optimisation is not None:
        options.graph_optimization_level = optimisation
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxMember:
    """One member in ONNX Runtime, on one thread (workers.py spreads members over cores): z-scored
    windows [n, Tn] (or [n, d, Tn]) -> raw outputs, in batches of at most `batch_values` numbers. Its
    file is checked when loaded and read at its first use."""

    def __init__(self, path, batch_values: int):
        self.path, self.batch_values = path, batch_values
        self._session, self._pid = None, None

    @property
    def session(self):
        """ONNX Runtime's session of one thread, made in the process that runs it (workers.py forks)."""
        if self._pid != os.getpid():
            self._session, self._pid = one_thread_session(self.path), os.getpid()
        return self._session

    def batch_rows(self, x: np.ndarray) -> int:
        return max(1, self.batch_values // x[0].size)

    def __call__(self, x: np.ndarray, output=None) -> np.ndarray:
        """Its first output (alpha, or log-probabilities), or the output named."""
        batch = self.batch_rows(x)
        names = [output] if output else None
        return np.concatenate(
            [self.session.run(names, {"positions": x[i : i + batch]})[0] for i in range(0, len(x), batch)]
        )


class TorchMember:
    """One member in PyTorch (on the CPU or a GPU): z-scored windows -> raw outputs, in batches of at
    most `batch_values` numbers."""

    def __init__(self, model, device: str, batch_values: int):
        self.model, self.device, self.batch_values = model.to(device), device, batch_values

    @classmethod
    def load(cls, path, entry: dict, device: str, batch_values: int, median=None) -> "TorchMember":
        """The model file of a manifest entry, checked to hold the length and fold the entry names, with
        the weights and readout its ONNX export holds, so that both runtimes agree (or another readout,
        `median`)."""
        from andiflow.export import round_weights
        from andiflow.heads import MEDIANS
        from andiflow.model import load_checkpoint

        model, meta = load_checkpoint(path)
        if (meta.get("length"), meta.get("fold")) != (entry["length"], entry["fold"]):
            raise ModelFileError(
                f"{path}: holds length {meta.get('length')} fold {meta.get('fold')}, "
                f"the manifest says length {entry['length']} fold {entry['fold']}"
            )
        round_weights(model, entry.get("onnx_weights"))
        model.median = median or entry.get("median", "grid")
        if model.median not in MEDIANS:
            raise ModelFileError(f"{path}: its manifest names an unknown median {model.median!r}, not one of {MEDIANS}")
        return cls(model, device, batch_values)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        import torch

        from andiflow.model import predict_in_batches

        return predict_in_batches(self.model, torch.from_numpy(x), self.batch_values, self.device).cpu().numpy()
