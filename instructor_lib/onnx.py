"""The ONNX backend: the whole embedder exported as one graph, and an Instructor that runs it with onnxruntime.

`export_onnx(model, directory)` writes one graph, `model.onnx`, for the whole embedder: inputs `input_ids`,
`attention_mask` and `pooling_mask` (the instruction exclusion, as `Instructor.tokenize` builds it), dynamic
batch and sequence axes, output `sentence_embedding` (encoder -> mean over pooling_mask -> [Dense] ->
[normalise]). Beside it: the tokenizer files and `instructor_onnx.json` (pooling, truncation and padding
settings). `quantize="int8"` makes the graph's weights int8 with onnxruntime's dynamic quantisation.

`load_onnx(directory)` returns an `OnnxInstructor`: an Instructor whose `encode` runs that graph on the CPU,
with the same sorting, batching, instruction handling and outputs as the torch model.

Named after the format: imports are absolute, so `import onnx` (torch's exporter does it) still finds the onnx
package, never this module.
"""
from __future__ import annotations

import importlib.metadata as md
import json
import warnings
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn

from .files import read_json
from .model import Instructor
from .provenance import sha256_file, sha256_json

ONNX_CONFIG_NAME = "instructor_onnx.json"
GRAPH_NAME = "model.onnx"
FORMAT = "instructor_lib-onnx/1"
INPUT_NAMES = ("input_ids", "attention_mask", "pooling_mask")
OUTPUT_NAME = "sentence_embedding"
QUANTIZATIONS = (None, "int8")
OPSET = 17
# Traced once; two lengths so the example batch has padding and the graph keeps the attention-mask path.
EXAMPLE_PAIRS = [("Represent the statement: ", "A man is eating food."), ("", "a dog")]


class _WholeEmbedder(nn.Module):
    """The embedder as a module of three tensors (Instructor.forward takes a dict), for the ONNX tracer."""

    def __init__(self, model: Instructor):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, pooling_mask: torch.Tensor) -> torch.Tensor:
        return self.model({"input_ids": input_ids, "attention_mask": attention_mask, "pooling_mask": pooling_mask})


def export_onnx(model: Instructor, directory: str | Path, quantize: str | None = None) -> Path:
    """Write `model.onnx`, the tokenizer and `instructor_onnx.json` into `directory`; return the directory
    (load it with `load_onnx`).

    `quantize="int8"`: dynamic int8 quantisation of the weights with per-channel scales
    (onnxruntime.quantization.quantize_dynamic); the saved graph is then the quantised one.
    """
    if isinstance(model, OnnxInstructor):
        raise TypeError("this model already runs an ONNX graph: copy its folder instead of exporting it again")
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize must be one of {QUANTIZATIONS}, got {quantize!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    graph_path = directory / GRAPH_NAME
    traced_path = graph_path.with_suffix(".float32.onnx") if quantize else graph_path
    _trace(model, traced_path)
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # Per-channel weight scales: on all-MiniLM-L6-v2 (AVX2 CPU) per-tensor scales gave mean cosine 0.961 to
        # float32 on real texts, per-channel 0.993.
        quantize_dynamic(traced_path, graph_path, weight_type=QuantType.QInt8, per_channel=True)
        traced_path.unlink()
    model.tokenizer.save_pretrained(directory)
    settings = {
        "format": FORMAT, "graph": GRAPH_NAME, "inputs": list(INPUT_NAMES), "output": OUTPUT_NAME,
        "pooling": "mean over pooling_mask (instruction tokens excluded, include_prompt=False)",
        "dense": model.dense.config if model.dense is not None else None, "normalize": model.normalize,
        "embedding_dim": model.embedding_dim, "max_seq_length": model.max_seq_length,
        "padding_side": model.tokenizer.padding_side, "quantization": quantize, "opset": OPSET,
        "source": {"name_or_path": model.name_or_path, "fingerprint": model.fingerprint()},
        "versions": {name: md.version(name) for name in ("torch", "transformers", "onnx", "onnxruntime")},
    }
    if model.pooling != "text":  # the pooling mask is built outside the graph; "text" leaves the settings as they were
        settings |= {"pooling": "mean over pooling_mask (every token, include_prompt=True)", "pooling_mode": model.pooling}
    (directory / ONNX_CONFIG_NAME).write_text(json.dumps(settings, indent=2) + "\n")
    return directory


def _trace(model: Instructor, path: Path) -> None:
    """Trace the float32 embedder into `path` with dynamic batch and sequence axes; the model's mode is kept."""
    device = next(model.parameters()).device
    example = {name: tensor.to(device) for name, tensor in model.tokenize(EXAMPLE_PAIRS).items()}
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES} | {OUTPUT_NAME: {0: "batch"}}
    was_training = model.training
    # eval() first: the exporter restores the wrapper's own mode afterwards, and a fresh wrapper is in training mode.
    wrapper = _WholeEmbedder(model).eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # The TorchScript exporter (simpler than dynamo for dynamic axes) is deprecated; transformers' mask
            # code branches on shapes and indexes with aranges (never negative). Tests check the graph on batch
            # sizes and lengths unseen here.
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("ignore", message="Exporting aten::index operator", category=UserWarning)
            torch.onnx.export(wrapper, tuple(example[name] for name in INPUT_NAMES), str(path), dynamo=False,
                              input_names=list(INPUT_NAMES), output_names=[OUTPUT_NAME], dynamic_axes=axes,
                              opset_version=OPSET)
    finally:
        model.train(was_training)


class _GraphRunner(nn.Module):
    """Stands where the encoder stands: runs the exported graph (the whole embedder) with onnxruntime."""

    def __init__(self, session, embedding_dim: int):
        super().__init__()
        self.session = session
        self.config = SimpleNamespace(hidden_size=embedding_dim)  # what Instructor reads of an encoder's config
        # onnxruntime computes on the CPU; this empty parameter tells torch code (encode's device lookup) so.
        self.device_marker = nn.Parameter(torch.empty(0), requires_grad=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, pooling_mask: torch.Tensor) -> torch.Tensor:
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask, "pooling_mask": pooling_mask}
        (embeddings,) = self.session.run([OUTPUT_NAME], {name: tensor.cpu().numpy() for name, tensor in feeds.items()})
        return torch.from_numpy(embeddings).to(input_ids.device)


class OnnxInstructor(Instructor):
    """An Instructor whose encoder, pooling, Dense and normalisation run as one ONNX graph in onnxruntime.

    Everything around the graph (tokenizing, instruction lengths, sorting, batching, output order and types)
    is Instructor's own code. The graph's precision is fixed at export (float32, or int8 weights), so
    `encode(precision=...)` does not change it. Load with `load_onnx(folder)`.
    """

    def __init__(self, session, tokenizer, settings: dict, directory: Path):
        super().__init__(_GraphRunner(session, settings["embedding_dim"]), tokenizer, normalize=settings["normalize"],
                         max_seq_length=settings["max_seq_length"], name_or_path=str(directory),
                         pooling=settings.get("pooling_mode", "text"))
        self.settings = settings
        self.graph_path = directory / settings["graph"]

    def _embed(self, features: dict[str, torch.Tensor], encoder: nn.Module) -> torch.Tensor:
        return encoder(**{name: features[name] for name in INPUT_NAMES})

    def _inference_encoder(self, precision: str) -> nn.Module:
        return self.encoder

    def fingerprint(self) -> str:
        """sha256 of the graph file and of the settings: the key of every embedding cache."""
        settings = {key: value for key, value in self.settings.items() if key != "versions"}
        return sha256_json({"settings": settings, "graph": sha256_file(self.graph_path)})

    def save_pretrained(self, directory, instructions=None, model_card_extra: str = ""):
        raise TypeError(f"an ONNX model has no torch weights to save: copy its folder {self.name_or_path} instead")


def load_onnx(directory: str | Path, device: str | torch.device | None = None) -> OnnxInstructor:
    """Load a folder written by `export_onnx`; onnxruntime runs on the CPU with torch's thread count."""
    import onnxruntime as ort
    from transformers import AutoTokenizer

    if directory is None:
        raise ValueError("load_onnx needs the folder written by export_onnx(model, folder)")
    directory = Path(directory)
    config_path = directory / ONNX_CONFIG_NAME
    if not config_path.is_file():
        raise FileNotFoundError(f"{directory} has no {ONNX_CONFIG_NAME}: not a folder written by export_onnx")
    settings = read_json(config_path, "export the model again")
    if settings.get("format") != FORMAT:
        raise ValueError(f"{config_path}: format {settings.get('format')!r} is not {FORMAT!r}; export the model again")
    if device is not None and torch.device(device).type != "cpu":
        raise ValueError(f"the ONNX backend runs on the CPU (onnxruntime CPUExecutionProvider), not on {device!r}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()  # respect OMP_NUM_THREADS / torch.set_num_threads
    session = ort.InferenceSession(str(directory / settings["graph"]), options, providers=["CPUExecutionProvider"])
    tokenizer = AutoTokenizer.from_pretrained(directory)
    tokenizer.padding_side = settings["padding_side"]
    return OnnxInstructor(session, tokenizer, settings, directory).eval()
