"""What a stretch of speech sounds like: voice embeddings and the cues of distance.

Two ways to describe a voice, compared in the README ("Speaker turns"):

- ``ge2e``: the GE2E speaker encoder (a 3-layer LSTM over 40 mel bands, 256-dimensional
  embeddings) whose weights ship inside the PyPI package ``resemblyzer`` 0.1.4. Its
  ``pretrained.pt`` is checked against a pinned SHA-256 and read without PyTorch: a
  restricted unpickler that builds nothing but arrays (any other object in the file is
  refused), and the LSTM runs on onnxruntime, which bwv already has.
- ``mfcc``: the mean and spread of 20 mel cepstral coefficients; no model at all.

And the cues of closeness that tell the camera wearer apart: the level of the voice (the
wearer's mouth is a hand's breadth from the microphone) and how much of its energy is above
2 kHz (distance and walls take the high frequencies first).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pickle
import struct
from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import ModelError

SAMPLE_RATE = 16_000
HOP = 160  # 10 ms frames
N_FFT = 400  # 25 ms windows
N_MELS = 40
#: SHA-256 of ``resemblyzer/pretrained.pt`` as shipped in resemblyzer 0.1.4.
GE2E_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
_HIDDEN = 256
_LAYERS = 3


# --- the spectrum -------------------------------------------------------------------------


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default): linear below 1 kHz, logarithmic above."""
    mel = hz / (200.0 / 3)
    log_part = hz >= 1000.0
    return np.where(log_part, 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) / (np.log(6.4) / 27),
                    mel)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    hz = mel * (200.0 / 3)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27) * (mel - 15.0)), hz)


@cache
def mel_filters() -> np.ndarray:
    """The 40 triangular mel filters (Slaney-normalised) the GE2E encoder was trained with."""
    fft_hz = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    mel_pts = np.linspace(_hz_to_mel(np.array(0.0)), _hz_to_mel(np.array(SAMPLE_RATE / 2.0)),
                          N_MELS + 2)
    hz_pts = _mel_to_hz(mel_pts)
    ramps = hz_pts[:, None] - fft_hz[None, :]
    fdiff = np.diff(hz_pts)
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (hz_pts[2:] - hz_pts[:-2]))[:, None]
    return weights.astype(np.float32)


def power_spectrum(audio: np.ndarray) -> np.ndarray:
    """Frames x bins power spectrum of float audio (centred frames, Hann window, 10 ms hop)."""
    padded = np.pad(audio.astype(np.float32), N_FFT // 2)
    count = 1 + max(0, (len(padded) - N_FFT) // HOP)
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(count, N_FFT), strides=(padded.strides[0] * HOP, padded.strides[0]))
    window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic Hann
    return np.abs(np.fft.rfft(frames * window, axis=1)) ** 2


# --- closeness ----------------------------------------------------------------------------


def closeness(power: np.ndarray) -> tuple[float, float]:
    """(level dB, high-band share dB) of a stretch of speech from its power spectrum.

    The level is taken over the loudest half of its frames, so pauses between words do not
    lower it; the high band is the energy above 2 kHz against the whole.
    """
    energy = power.sum(axis=1)
    if not len(energy):
        return -120.0, -60.0
    loud = energy >= np.median(energy)
    level = 10 * np.log10(energy[loud].mean() / (N_FFT * N_FFT / 4) + 1e-12)
    split = int(2000 / (SAMPLE_RATE / N_FFT))
    high = power[loud, split:].sum() / (power[loud].sum() + 1e-12)
    return float(level), float(10 * np.log10(high + 1e-6))


# --- mfcc ---------------------------------------------------------------------------------


def mfcc_embedding(power: np.ndarray) -> np.ndarray:
    """The mean and standard deviation of 20 mel cepstral coefficients (level removed)."""
    logmel = np.log(power @ mel_filters().T + 1e-10)
    n = logmel.shape[1]
    basis = np.cos(np.pi / n * (np.arange(n) + 0.5)[None, :] * np.arange(1, 21)[:, None])
    ceps = logmel @ basis.T  # c0 (level) left out
    return np.concatenate([ceps.mean(axis=0), ceps.std(axis=0)]).astype(np.float32)


# --- ge2e ---------------------------------------------------------------------------------


class _ArraysOnly(pickle.Unpickler):
    """Reads a legacy PyTorch checkpoint as plain arrays; refuses every other object."""

    def __init__(self, fh: Any, storages: dict[str, tuple[str, int]]) -> None:
        super().__init__(fh)
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return lambda storage, offset, size, stride, *_rest: ("tensor", storage, offset,
                                                                 size, stride)
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if module == "torch" and name in ("FloatStorage", "LongStorage"):
            return name
        raise pickle.UnpicklingError(f"refused {module}.{name} in a model file")

    def persistent_load(self, pid: Any) -> str:
        storage_type, key, numel = pid[1], pid[2], pid[4]  # ("storage", type, key, where, n, view)
        self.storages[key] = (storage_type, numel)
        return str(key)


def read_checkpoint(path: Path) -> dict[str, np.ndarray]:
    """The ``model_state`` arrays of a legacy-format PyTorch checkpoint, without PyTorch."""
    dtypes: dict[str, np.dtype[Any]] = {"FloatStorage": np.dtype("<f4"), "LongStorage": np.dtype("<i8")}
    storages: dict[str, tuple[str, int]] = {}
    with path.open("rb") as fh:
        for _header in range(3):  # magic number, protocol, system info
            pickle.load(fh)  # noqa: S301 - plain numbers and a dict of numbers, hash-checked file
        tree = _ArraysOnly(fh, storages).load()
        keys = pickle.load(fh)  # noqa: S301 - a list of strings, hash-checked file
        data: dict[str, np.ndarray] = {}
        for key in keys:
            (count,) = struct.unpack("<q", fh.read(8))
            dtype = dtypes[storages[key][0]]
            data[key] = np.frombuffer(fh.read(count * dtype.itemsize), dtype=dtype)

    def tensor(value: tuple[Any, ...]) -> np.ndarray:
        _tag, key, offset, size, stride = value
        flat = data[key]
        return np.lib.stride_tricks.as_strided(
            flat[offset:], shape=size, strides=[s * flat.itemsize for s in stride]).copy()

    return {name: tensor(value) for name, value in tree["model_state"].items()}


def ge2e_weights_path() -> Path:
    """Where the installed resemblyzer keeps ``pretrained.pt`` (found without importing it)."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the speaker model is missing: the `resemblyzer` package is not "
                         "installed; run `pip install --no-deps resemblyzer==0.1.4` (or "
                         "`make setup`)")
    return Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"


class Ge2eEncoder:
    """The GE2E speaker encoder on onnxruntime: mel frames in, unit-length embeddings out."""

    def __init__(self, weights: Path | None = None, *, threads: int = 1,
                 cache: Path | None = None) -> None:
        """``cache``: a folder where the ONNX graph made from the weights is kept, so that
        later processes need not build it again (it is used only if its SHA-256 is
        :data:`GE2E_ONNX_SHA256`, the graph this code builds from the pinned weights)."""
        import onnxruntime as ort

        from pipeline.batch.models import sha256_file

        path = weights or ge2e_weights_path()
        if not path.is_file():
            raise ModelError(f"the speaker model {path} is missing; reinstall resemblyzer==0.1.4")
        if weights is None and (actual := sha256_file(path)) != GE2E_SHA256:
            raise ModelError(f"the speaker model {path} has SHA-256 {actual}, expected "
                             f"{GE2E_SHA256}; reinstall resemblyzer==0.1.4")
        state = read_checkpoint(path)
        self.linear_w = state["linear.weight"].T.astype(np.float32)
        self.linear_b = state["linear.bias"].astype(np.float32)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        graph = _cached_graph(cache) if weights is None else None
        if graph is None:
            graph = _lstm_graph(state).SerializeToString()
            if weights is None:
                _keep_graph(cache, graph)
        self.session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def embed(self, mels: list[np.ndarray], *, bucket: int = 24) -> np.ndarray:
        """One embedding per mel spectrogram (frames x 40, linear power).

        onnxruntime's LSTM runs every step of a padded batch, so the spectrograms go in
        batches of ``bucket`` of like length (a third less work than one padded batch).
        """
        out = np.zeros((len(mels), _HIDDEN), np.float32)
        order = sorted(range(len(mels)), key=lambda i: len(mels[i]))
        for at in range(0, len(order), bucket):
            group = order[at:at + bucket]
            longest = max(len(mels[i]) for i in group)
            batch = np.zeros((longest, len(group), N_MELS), np.float32)
            for j, i in enumerate(group):
                batch[: len(mels[i]), j] = mels[i]
            lengths = np.array([len(mels[i]) for i in group], np.int32)
            (hidden,) = self.session.run(None, {"mels": batch, "lengths": lengths})
            raw = np.maximum(hidden[0] @ self.linear_w + self.linear_b, 0.0)
            out[group] = raw / (np.linalg.norm(raw, axis=1, keepdims=True) + 1e-9)
        return out


#: SHA-256 of the ONNX graph :func:`_lstm_graph` builds from the pinned weights.
GE2E_ONNX_SHA256 = "98acf3c906a4b4a74eb2b38282a24de72e9ab2b6705bdeeb154761e34f8ceb38"
_GRAPH_NAME = "ge2e-resemblyzer-0.1.4.onnx"


def _cached_graph(cache: Path | None) -> bytes | None:
    """The graph kept by an earlier process, if it is exactly the one this code builds."""
    if cache is None or not (cache / _GRAPH_NAME).is_file():
        return None
    data = (cache / _GRAPH_NAME).read_bytes()
    return data if hashlib.sha256(data).hexdigest() == GE2E_ONNX_SHA256 else None


def _keep_graph(cache: Path | None, graph: bytes) -> None:
    """Keep a freshly built graph for later processes (atomically), if it is the pinned one."""
    if cache is None or hashlib.sha256(graph).hexdigest() != GE2E_ONNX_SHA256:
        return
    try:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = cache / f".{_GRAPH_NAME}.{os.getpid()}.tmp"
        tmp.write_bytes(graph)
        tmp.replace(cache / _GRAPH_NAME)
    except OSError:
        pass  # a read-only folder: build it again next time


def _lstm_graph(state: dict[str, np.ndarray]) -> Any:
    """PyTorch's 3-layer LSTM as an ONNX graph (gates reordered from i,f,g,o to i,o,f,g)."""
    from onnx import TensorProto, helper, numpy_helper

    def gates(a: np.ndarray) -> np.ndarray:
        i, f, g, o = np.split(a, 4, axis=0)
        return np.concatenate([i, o, f, g], axis=0)

    nodes, inits = [], []
    x = "mels"
    for layer in range(_LAYERS):
        w = gates(state[f"lstm.weight_ih_l{layer}"])[None]
        r = gates(state[f"lstm.weight_hh_l{layer}"])[None]
        b = np.concatenate([gates(state[f"lstm.bias_ih_l{layer}"]),
                            gates(state[f"lstm.bias_hh_l{layer}"])])[None]
        names = [f"W{layer}", f"R{layer}", f"B{layer}"]
        inits += [numpy_helper.from_array(v.astype(np.float32), n)
                  for v, n in zip((w, r, b), names, strict=True)]
        y, y_h = f"y{layer}", ("hidden" if layer == _LAYERS - 1 else f"h{layer}")
        nodes.append(helper.make_node("LSTM", [x, *names, "lengths"], [y, y_h],
                                      hidden_size=_HIDDEN))
        if layer < _LAYERS - 1:
            inits.append(numpy_helper.from_array(np.array([1], np.int64), f"axis{layer}"))
            nodes.append(helper.make_node("Squeeze", [y, f"axis{layer}"], [f"x{layer + 1}"]))
            x = f"x{layer + 1}"
    graph = helper.make_graph(
        nodes, "ge2e",
        [helper.make_tensor_value_info("mels", TensorProto.FLOAT, ["T", "B", N_MELS]),
         helper.make_tensor_value_info("lengths", TensorProto.INT32, ["B"])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, [1, "B", _HIDDEN])],
        inits,
    )
    # Fixed versions and no producer, so that the bytes (and their SHA-256) do not depend on
    # the installed onnx release.
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], ir_version=8,
                             producer_name="bwv", producer_version="1")


def ge2e_mels(power: np.ndarray, mean_square: float) -> np.ndarray:
    """The encoder's input: linear mel power of the stretch brought to -30 dBFS (as in training).

    ``mean_square`` is the stretch's mean squared sample (float audio in -1..1).
    """
    gain = 10 ** (-30 / 10) / (mean_square + 1e-12)
    return ((power @ mel_filters().T) * gain).astype(np.float32)
