"""The embedded architectures are Hugging Face checkpoints: every name and shape of transformers' own models, and
a file written by ``fastinit init`` loads with ``from_pretrained`` (no missing, unexpected or mismatched key) into
exactly the file's values."""
import warnings

import pytest

from fastinit.archs import arch_spec, parameter_count
from fastinit.cli import main

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
st_torch = pytest.importorskip("safetensors.torch")

GPT2 = {"gpt2": (12, 768, 12), "gpt2-medium": (24, 1024, 16), "gpt2-large": (36, 1280, 20), "gpt2-xl": (48, 1600, 25)}
LLAMA = {  # layers, width, MLP width, vocabulary, heads, key/value heads, tied embeddings (the published configs)
    "llama-tiny": (2, 256, 688, 32000, 4, 4, False),
    "llama3.2-1b": (16, 2048, 8192, 128256, 32, 8, True),
    "llama-7b": (32, 4096, 11008, 32000, 32, 32, False),
    "llama3-8b": (32, 4096, 14336, 128256, 32, 8, False),
}
BERT = {"bert-base": (12, 768, 12), "bert-large": (24, 1024, 16)}


def _model(arch: str):
    """transformers' model of ``arch`` (on the current default device) and the prefix its checkpoint names lack."""
    if arch in GPT2:
        n_layer, d, heads = GPT2[arch]
        return transformers.GPT2LMHeadModel(transformers.GPT2Config(n_layer=n_layer, n_embd=d, n_head=heads)), \
            "transformer."
    if arch in LLAMA:
        n_layer, d, hidden, vocab, heads, kv, tied = LLAMA[arch]
        config = transformers.LlamaConfig(num_hidden_layers=n_layer, hidden_size=d, intermediate_size=hidden,
                                          vocab_size=vocab, num_attention_heads=heads, num_key_value_heads=kv,
                                          tie_word_embeddings=tied)
        return transformers.LlamaForCausalLM(config), ""
    n_layer, d, heads = BERT[arch]
    return transformers.BertModel(transformers.BertConfig(num_hidden_layers=n_layer, hidden_size=d,
                                                          num_attention_heads=heads, intermediate_size=4 * d)), ""


@pytest.mark.parametrize("arch", [*GPT2, *LLAMA, *BERT])
def test_names_and_shapes_are_those_of_the_transformers_model(arch):
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, prefix = _model(arch)
    theirs = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    ours = {prefix + name: tuple(spec.shape) for name, spec in arch_spec(arch).items()}
    tied = {"lm_head.weight"} if arch in GPT2 or LLAMA.get(arch, (False,))[-1] else set()  # the embedding's
    assert set(theirs) - set(ours) == tied and set(ours) <= set(theirs)
    assert {name: theirs[name] for name in ours} == ours
    assert parameter_count(arch_spec(arch)) == sum(p.numel() for p in model.parameters())  # (tied: counted once)


@pytest.mark.parametrize("arch", ["llama-tiny", "gpt2"])
def test_fastinit_init_files_load_with_from_pretrained(arch, tmp_path, capsys):
    assert main(["init", "--arch", arch, "--out", str(tmp_path / "model.safetensors"), "--seed", "3",
                 "--no-progress"]) == 0
    capsys.readouterr()
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        empty, prefix = _model(arch)
    empty.config.save_pretrained(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, info = type(empty).from_pretrained(tmp_path, output_loading_info=True)
    assert not any(info.values()), info  # missing, unexpected or mismatched keys, errors
    state = model.state_dict()
    written = st_torch.load_file(tmp_path / "model.safetensors")
    assert written.keys() == arch_spec(arch).keys()
    for name, values in written.items():
        assert torch.equal(state[prefix + name], values), name
    if arch in GPT2:  # the LM head is the (written) token embedding
        assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()
