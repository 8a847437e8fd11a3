"""materialize of models whose parameters are DTensors (FSDP2's ``fully_shard``, tensor parallelism's
``parallelize_module``): each rank's shard holds its block of the unsharded model's values, and what materialize
cannot do is refused before any change.  Ranks are simulated one at a time on torch's fake process group; one test
trains a real two-process FSDP2 model (gloo) against the unsharded one."""
import contextlib
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

dist = pytest.importorskip("torch.distributed")
if not dist.is_available():
    pytest.skip("torch.distributed not built", allow_module_level=True)

from torch.distributed.device_mesh import DeviceMesh, init_device_mesh  # noqa: E402
from torch.distributed.fsdp import fully_shard  # noqa: E402
from torch.distributed.tensor import DTensor, Shard  # noqa: E402
from torch.distributed.tensor._utils import compute_local_shape_and_global_offset  # noqa: E402
from torch.testing._internal.distributed.fake_pg import FakeStore  # noqa: E402

from fastinit.torch import materialize  # noqa: E402

# torch's own, where a fallback's torch.nn.init call draws on a DTensor of a CPU mesh
pytestmark = pytest.mark.filterwarnings("ignore:DTensor random operators may not have complete support")


@contextlib.contextmanager
def _rank(rank: int, world: int):
    dist.init_process_group("fake", store=FakeStore(), rank=rank, world_size=world)
    # DTensor's sharding cache holds output specs by equal meshes, which a simulated rank's are to the last one's
    # (their coordinate, its own)
    torch._C._clear_DTensor_sharding_propagator_cache()
    try:
        yield
    finally:
        dist.destroy_process_group()


def _block(t: DTensor) -> tuple:
    shape, offset = compute_local_shape_and_global_offset(t.shape, t.device_mesh, t.placements)
    return tuple(slice(o, o + n) for o, n in zip(offset, shape))


def _assert_blocks_of(model: nn.Module, ref: nn.Module, skip: tuple = ()) -> int:
    """Every DTensor of ``model`` (but those named in ``skip``) holds its block of ``ref``'s tensor of the same name,
    bit for bit; plain tensors equal; returns how many DTensors were compared."""
    want = dict(ref.named_parameters()) | dict(ref.named_buffers())
    got = dict(model.named_parameters()) | dict(model.named_buffers())
    assert got.keys() == want.keys()
    sharded = 0
    for name, t in got.items():
        if name in skip:
            continue
        if isinstance(t, DTensor):
            sharded += 1
            assert torch.equal(t.to_local().detach(), want[name].detach()[_block(t)]), name
        else:
            assert torch.equal(t.detach(), want[name].detach()), name
    return sharded


class Scale(nn.Module):
    """No rule of materialize's: its reset_parameters() fills it (a fallback)."""

    def __init__(self, n: int):
        super().__init__()
        self.w = nn.Parameter(torch.empty(n))
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.uniform_(self.w, 2.0, 3.0)


def _net(padding_idx: int) -> nn.Sequential:
    return nn.Sequential(nn.Embedding(10, 8, padding_idx=padding_idx), nn.Linear(8, 5), nn.LayerNorm(5),
                         nn.Linear(5, 3), nn.BatchNorm1d(3), Scale(7))


@pytest.mark.parametrize("dtype", [None, torch.bfloat16])
def test_an_fsdp2_meta_models_shards_are_the_unsharded_models_blocks(dtype):
    """Uneven shards (10 rows over 3 ranks: 4, 4, 2), the embedding's padding row zeroed by the rank holding it
    (indexing the DTensor zeroed a copy), buffers; seed=None draws on every rank the seed the unsharded model
    draws."""
    for padding_idx in (5, 9):  # on rank 1; on rank 2, its last row
        with torch.device("meta"):
            ref = _net(padding_idx)
        torch.manual_seed(0)
        seed = materialize(ref, dtype=dtype).seed
        for rank in range(3):
            with _rank(rank, 3):
                with torch.device("meta"):
                    m = _net(padding_idx)
                for sub in m[:4]:
                    fully_shard(sub)
                fully_shard(m)
                torch.manual_seed(0)
                summary = materialize(m, dtype=dtype)
                assert summary.seed == seed
                assert _assert_blocks_of(m, ref, skip=("5.w",)) == 9  # (5.w: its fallback draws from torch)
                assert summary["0.weight"].numel == 80 and summary["0.weight"].method == "normal(0, 1), padding row 0"
                assert summary["0.weight"].module == "Embedding"  # (the module's class: FSDP2 made it FSDPEmbedding)
                weight = m[0].weight
                assert weight.to_local().dtype == (dtype or torch.float32) and weight.requires_grad
                rows = _block(weight)[0]
                zero = [i for i, row in enumerate(weight.to_local()) if not row.any()]
                assert zero == ([padding_idx - rows.start] if rows.start <= padding_idx < rows.stop else [])


def test_a_fallbacks_dtensor_is_filled_by_its_own_reset_parameters():
    with _rank(1, 3):
        with torch.device("meta"):
            m = nn.Sequential(nn.Linear(4, 7), Scale(7))
        fully_shard(m[1])
        fully_shard(m)
        summary = materialize(m, seed=0)
        assert summary["1.w"].method == "Scale.reset_parameters()" and summary.fallbacks == {"1": "Scale"}
        assert type(m[1]).__name__ == "FSDPScale" and summary["1.w"].module == "Scale"
        local = m[1].w.to_local()
        assert local.shape == (3,) and bool(((local >= 2) & (local < 3)).all())


def test_overrides_fill_a_dtensor_as_the_unsharded_tensor():
    """fastinit's NumPy-level initializers fill the local shard at its offset (their global_shape= / offset=),
    fastinit.torch's take the DTensor, a user's callable gets the DTensor; one with no global_shape= is refused."""
    import functools

    import fastinit
    import fastinit.torch as ft

    overrides = {"1.weight": functools.partial(fastinit.normal_, std=0.5), "3.weight": ft.xavier_uniform_,
                 "1.bias": lambda t: t.fill_(0.25), "3.bias": functools.partial(fastinit.constant_, val=0.5)}
    with torch.device("meta"):
        ref = _net(0)
    materialize(ref, seed=6, overrides=overrides)
    for rank in range(3):
        with _rank(rank, 3):
            with torch.device("meta"):
                m = _net(0)
            fully_shard(m)
            summary = materialize(m, seed=6, overrides=overrides)
            assert _assert_blocks_of(m, ref, skip=("5.w",)) == 9
            assert summary["1.weight"].method == "override normal_"
            with torch.device("meta"):
                m = _net(0)
            fully_shard(m)
            with pytest.raises(ValueError, match=r"fastinit.orthogonal_ for '3.weight', a DTensor: its values depend "
                                                 r"on the whole tensor, .* give fastinit.torch.orthogonal_"):
                materialize(m, seed=6, overrides={"3.weight": fastinit.orthogonal_})
            with pytest.raises(ValueError, match=r"the initializer for '3.weight' takes no global_shape=/offset= "
                                                 r"keywords, so it cannot fill its shard \(a DTensor's\)"):
                materialize(m, seed=6, overrides={"3.weight": fastinit.prior_bias_})
            assert all(p.is_meta for p in m.parameters())


def test_the_progress_bar_counts_the_bytes_a_rank_writes(monkeypatch):
    from test_materialize import recorded_bar

    seen = recorded_bar(monkeypatch)
    with _rank(2, 3):
        with torch.device("meta"):
            m = nn.Sequential(nn.Linear(8, 10), Scale(7))
        fully_shard(m)
        materialize(m, seed=0, progress=True)
    # rank 2 of 3 holds 2 of 10 rows (64 + 8 bytes) and 1 of 7 elements (4 bytes, its fallback's)
    assert seen[0] == 76 and sorted(seen[1:]) == [4, 8, 64]


def test_an_fsdp2_model_left_unsharded_is_resharded_first():
    """After a forward under no_grad the root's parameters are FSDP2's all-gathered copies: materialize filled those
    (not the shards), and FSDP2's next reshard failed (fastinit's views had marked their storage non-resizable;
    they no longer do, but the copies are still not what to fill)."""
    with torch.device("meta"):
        ref = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))
    materialize(ref, seed=9)
    with _rank(0, 2):
        with torch.device("meta"):
            m = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))
        fully_shard(m[0])
        fully_shard(m)
        materialize(m, seed=1)
        with torch.no_grad():
            m(torch.ones(5, 4))
        assert not isinstance(m[2].weight, DTensor)  # (the gathered copy)
        materialize(m, seed=9)
        assert _assert_blocks_of(m, ref) == 4
        m.reshard()


def test_zero_element_shards_and_seedless_numpy_overrides():
    """FSDP2 gives a (4, 0) weight's shards the shape (0, 0) (nothing to fill, as unsharded); a NumPy-level
    override binding seed=None is refused (a rank with an empty shard would draw no seed: out of step)."""
    import functools

    import fastinit

    with _rank(1, 2):
        with torch.device("meta"), pytest.warns(UserWarning, match="zero-element"):  # (torch's, building it)
            m = nn.Sequential(nn.Linear(0, 4), nn.Linear(4, 3))
        fully_shard(m)
        summary = materialize(m, seed=0)
        assert m[0].weight.to_local().numel() == 0 and summary["0.weight"].numel == 0
        with torch.device("meta"):
            m = nn.Sequential(nn.Linear(4, 3))
        fully_shard(m)
        with pytest.raises(ValueError, match=r"fastinit.normal_ for '0.bias', a DTensor, binds seed=None: a rank "
                                             r"whose shard is empty would draw no seed"):
            materialize(m, seed=0, overrides={"0.bias": functools.partial(fastinit.normal_, seed=None)})
        assert all(p.is_meta for p in m.parameters())


def test_eye_and_dirac_through_materialize_give_each_rank_its_block():
    import fastinit.torch as ft

    def net():
        return nn.Sequential(nn.Linear(6, 6), nn.Conv2d(4, 4, 3))

    overrides = {"0.weight": ft.eye_, "1.weight": ft.dirac_}
    with torch.device("meta"):
        ref = net()
    materialize(ref, seed=0, overrides=overrides)
    for rank in range(2):
        with _rank(rank, 2):
            with torch.device("meta"):
                m = net()
            fully_shard(m)
            materialize(m, seed=0, overrides=overrides)
            assert _assert_blocks_of(m, ref) == 4


@pytest.mark.parametrize("scheme", ["hf", "llama"])
def test_a_hugging_face_model_under_fsdp2(scheme):
    """Each decoder layer and the model sharded, as in FSDP2's recipes; the model's own init's laws ("hf") too."""
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(vocab_size=50, hidden_size=16, intermediate_size=24, num_hidden_layers=2,
                                      num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=False)
    with torch.device("meta"):
        ref = transformers.LlamaForCausalLM(config)
    materialize(ref, seed=1, scheme=scheme)
    for rank in range(2):
        with _rank(rank, 2):
            with torch.device("meta"):
                m = transformers.LlamaForCausalLM(config)
            for layer in m.model.layers:
                fully_shard(layer)
            fully_shard(m)
            materialize(m, seed=1, scheme=scheme)
            assert _assert_blocks_of(m, ref) == len(list(ref.parameters()))
            materialize(m, seed=1, scheme=scheme)  # again, its DTensors allocated: HF's dry run read their storage
            assert _assert_blocks_of(m, ref) == len(list(ref.parameters()))


def test_a_hugging_face_model_built_on_the_cpu_then_sharded():
    """Allocated DTensors (a model built on the CPU, then sharded by tensor parallelism and FSDP2), a padding row:
    materialize raised "Attempted to access the data pointer on an invalid python storage" (HF's dry run)."""
    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(vocab_size=50, hidden_size=16, intermediate_size=24, num_hidden_layers=1,
                                      num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=False,
                                      pad_token_id=7)
    with torch.device("meta"):
        ref = transformers.LlamaForCausalLM(config)
    materialize(ref, seed=2)
    assert not ref.model.embed_tokens.weight[7].any()
    for rank in range(2):
        with _rank(rank, 2):
            m = transformers.LlamaForCausalLM(config)
            parallelize_module(m, init_device_mesh("cpu", (2,)), {"lm_head": ColwiseParallel(),
                                                                  "model.embed_tokens": RowwiseParallel()})
            fully_shard(m.model.layers[0])
            materialize(m, seed=2)
            assert _assert_blocks_of(m, ref) == 2 + len(list(m.model.layers[0].parameters()))


class TinyRMSNorm(nn.Module):
    """HF style: no reset_parameters; its rule is found by its class name (weight 1, as its __init__ sets)."""

    def __init__(self, d: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))


class Opaque(nn.Module):
    """No rule, no reset_parameters: materialize asks for overrides."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.empty(3))


@pytest.mark.parametrize("scheme", ["torch", "gpt2"])
def test_modules_fully_shard_wraps_keep_the_rules_found_by_their_class_name(scheme):
    """fully_shard makes a GPT-2 Conv1D an FSDPConv1D: materialize looks beneath it for the rules it finds by class
    name (Conv1D, the norms; an FSDPConv1D had none: "no rule for these tensors"), and its messages name the
    module's own class."""
    conv1d = pytest.importorskip("transformers.pytorch_utils").Conv1D

    def build():
        with torch.device("meta"):
            return nn.Sequential(conv1d(12, 8), TinyRMSNorm(12), nn.Linear(12, 4))

    ref = build()
    materialize(ref, seed=3, scheme=scheme)
    assert torch.all(ref[1].weight == 1) and float(ref[0].weight.detach().std()) == pytest.approx(0.02, rel=0.25)
    for rank in range(2):
        with _rank(rank, 2):
            m = build()
            for sub in m:
                fully_shard(sub)
            fully_shard(m)
            assert [type(sub).__name__ for sub in m] == ["FSDPConv1D", "FSDPTinyRMSNorm", "FSDPLinear"]
            summary = materialize(m, seed=3, scheme=scheme)
            assert _assert_blocks_of(m, ref) == 5 and summary.fallbacks == {}
            assert [summary[k].module for k in ("0.weight", "1.weight", "2.weight")] == ["Conv1D", "TinyRMSNorm",
                                                                                        "Linear"]
            with torch.device("meta"):
                odd = nn.Sequential(Opaque())
            fully_shard(odd[0])
            with pytest.raises(ValueError, match=r"\['0\.w \(Opaque\)'\]"):
                materialize(odd, seed=3, scheme=scheme)


@pytest.mark.parametrize("arch", ["whisper", "mamba"])
def test_hugging_face_init_code_on_dtensors_gives_the_unsharded_values(arch):
    """HF's _init_weights as a fallback copies computed values into parameters (Whisper's sinusoids, Mamba's A_log)
    and draws with torch: on FSDP2's DTensors it raised "aten.copy_.default got mixed torch.Tensor and DTensor".  It
    now writes plain tensors of the global shape, each rank taking its block: the unsharded model's values."""
    transformers = pytest.importorskip("transformers")
    if arch == "whisper":
        build, config = transformers.WhisperModel, transformers.WhisperConfig(
            d_model=24, encoder_layers=1, decoder_layers=1, encoder_attention_heads=4, decoder_attention_heads=4,
            encoder_ffn_dim=40, decoder_ffn_dim=40, vocab_size=103, pad_token_id=1, bos_token_id=1, eos_token_id=2,
            decoder_start_token_id=1, num_mel_bins=8, max_source_positions=16, max_target_positions=16)
    else:
        build, config = transformers.MambaModel, transformers.MambaConfig(
            vocab_size=50, hidden_size=16, state_size=4, num_hidden_layers=1, expand=2, conv_kernel=3)
    with torch.device("meta"):
        ref = build(config)
    fallbacks = materialize(ref, seed=4, scheme="hf").fallbacks
    assert fallbacks  # (the path under test: HF's own code, not fastinit's laws)
    for rank in range(2):
        with _rank(rank, 2):
            with torch.device("meta"):
                m = build(config)
            fully_shard(m)
            summary = materialize(m, seed=4, scheme="hf")
            assert summary.fallbacks == fallbacks
            assert _assert_blocks_of(m, ref) == len(list(ref.parameters()))


def test_tensor_parallel_shards_are_the_unsharded_models_blocks():
    """parallelize_module's placements: Shard(0) (column-wise Linear, row-wise Embedding), Shard(1), Replicate."""
    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

    def net():
        return nn.ModuleDict({"wte": nn.Embedding(12, 6, padding_idx=8), "up": nn.Linear(6, 10),
                              "down": nn.Linear(10, 6), "norm": nn.LayerNorm(6)})

    plan = {"wte": RowwiseParallel(), "up": ColwiseParallel(), "down": RowwiseParallel()}
    with torch.device("meta"):
        ref = net()
    materialize(ref, seed=2)
    for rank in range(2):
        with _rank(rank, 2):
            with torch.device("meta"):
                m = net()
            parallelize_module(m, init_device_mesh("cpu", (2,)), plan)
            materialize(m, seed=2)
            assert _assert_blocks_of(m, ref) == 5  # (the LayerNorm's stay plain tensors)
            assert {str(p.placements) for p in m.parameters() if isinstance(p, DTensor)} == \
                {"(Shard(dim=0),)", "(Shard(dim=1),)", "(Replicate(),)"}


def test_what_materialize_cannot_do_with_dtensors_is_refused_before_any_change():
    """(A device of another type than the mesh's, but the CPU, is refused too: not reachable without a GPU.)"""
    from torch.distributed.tensor.parallel import ColwiseParallel, parallelize_module

    with _rank(0, 4):
        with torch.device("meta"):
            m = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
        fully_shard(m, mesh=init_device_mesh("cpu", (4,)))
        with pytest.raises(TypeError, match=r"placement given for 0.weight, a DTensor: it carries its own placement"):
            materialize(m, seed=0, placement={"0.weight": ((8, 4), (0, 0))})
        assert all(p.is_meta for p in m.parameters())
        cuda = nn.Linear(4, 8, device="meta")  # (no GPU needed: nothing is allocated on it)
        on_cuda = DeviceMesh("cuda", [0, 1, 2, 3])
        cuda.weight = nn.Parameter(DTensor.from_local(torch.empty(2, 4, device="meta"), on_cuda, [Shard(0)],
                                                      run_check=False, shape=(8, 4), stride=(4, 1)))
        materialize(cuda, seed=0)  # on the host: FSDP2's CPU offloading (CPUOffloadPolicy) keeps its shards there
        with torch.device("meta"):
            ref = nn.Linear(4, 8)
        materialize(ref, seed=0)
        assert cuda.weight.to_local().device.type == "cpu" and torch.equal(cuda.weight.to_local(), ref.weight[:2])
        materialize(m, seed=0)
        before = [p.to_local().clone() for p in m.parameters()]
        with pytest.raises(ValueError, match=r"0.weight is an allocated DTensor \(torch.float32, cpu\), which "
                                             r"materialize fills in place, not on 'cpu' as torch.float64"):
            materialize(m, seed=1, dtype=torch.float64)
        assert all(torch.equal(p.to_local(), b) for p, b in zip(m.parameters(), before))
    with _rank(0, 2):  # a parametrized weight: set through right_inverse from the whole weight, no shard
        from torch.nn.utils.parametrizations import weight_norm

        with torch.device("meta"):
            m = nn.Sequential(weight_norm(nn.Linear(6, 7)))
        fully_shard(m)
        with pytest.raises(ValueError, match=r"0.weight is parametrized, and its originals are DTensors, .* give "
                                             r"0.parametrizations.weight's original tensors overrides"):
            materialize(m, seed=0)
        assert all(p.is_meta for p in m.parameters())
        materialize(m, seed=0, overrides={"0.parametrizations.weight.original*": "ones"})
        assert bool((m[0].parametrizations.weight.original1.to_local() == 1).all())
    with _rank(0, 4):  # FSDP2 over tensor parallelism: strided shards, whose rows are not one block
        mesh = init_device_mesh("cpu", (2, 2), mesh_dim_names=("dp", "tp"))
        with torch.device("meta"):
            m = nn.Sequential(nn.Linear(4, 8))
        parallelize_module(m, mesh["tp"], {"0": ColwiseParallel()})
        fully_shard(m, mesh=mesh["dp"])
        with pytest.raises(TypeError, match=r"materialize: 0.weight \(.*Linear, kaiming_uniform\(a=√5\)\): "
                                            r"kaiming_uniform_: a DTensor placed _StridedShard"):
            materialize(m, seed=0)
        assert all(p.is_meta for p in m.parameters())


_TRAIN = """
import sys, torch, torch.distributed as dist
from torch import nn
from torch.distributed.fsdp import fully_shard
from fastinit.torch import materialize

def net():
    return nn.Sequential(nn.Embedding(7, 8, padding_idx=5), nn.Linear(8, 5), nn.GELU(), nn.LayerNorm(5),
                         nn.Linear(5, 3))

def train(m):
    x = torch.tensor([[0, 5, 6, 1]])
    out = m(x)
    out.sum().backward()
    torch.optim.SGD(m.parameters(), lr=0.1).step()
    return out.detach(), m(x).detach()

rank, world, port = map(int, sys.argv[1:])
dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
with torch.device("meta"):
    m, ref = net(), net()
for sub in m:
    if isinstance(sub, nn.Linear):
        fully_shard(sub)
fully_shard(m)
materialize(m, seed=3, dtype=torch.float64)
materialize(ref, seed=3, dtype=torch.float64)
assert m[1].weight.to_local().shape == ((3, 8) if rank == 0 else (2, 8))  # uneven: FSDP2 pads its own copy
first, second = train(m)
want_first, want_second = train(ref)
m.reshard()
assert torch.equal(first, want_first), (first, want_first)  # the initialization: the same bits
assert torch.allclose(second, want_second, rtol=1e-12, atol=1e-12)  # (gradients summed in another order)
for (name, p), q in zip(m.named_parameters(), ref.parameters()):
    assert torch.allclose(p.full_tensor(), q, rtol=1e-12, atol=1e-12), name
print("rank", rank, "trained as the unsharded model")
dist.destroy_process_group()
"""


def test_fsdp2_on_two_processes_trains_as_the_unsharded_model(tmp_path):
    """A real process group (gloo, two processes): FSDP2 re-reads the module's new shards at its first forward
    (padding rank 0's uneven one into its own storage); the forward of the materialized model is the unsharded
    one's, bit for bit, and an SGD step stays with it."""
    import socket

    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(_TRAIN))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"PYTHONPATH": str(pathlib.Path(__file__).resolve().parents[1])}
    procs = [subprocess.Popen([sys.executable, str(script), str(rank), "2", str(port)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env={**os.environ, **env}) for rank in range(2)]
    try:
        outs = [p.communicate(timeout=240) for p in procs]
    finally:
        for p in procs:
            p.kill()
    for rank, (p, (out, err)) in enumerate(zip(procs, outs)):
        assert p.returncode == 0, err[-3000:]
        assert out.split("\n")[-2] == f"rank {rank} trained as the unsharded model"
