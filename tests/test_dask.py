"""fastinit.dask: lazy arrays whose .compute() is bit-identical to the local initializer."""
import functools
import pickle
import tracemalloc

import numpy as np
import pytest

import fastinit

da = pytest.importorskip("dask.array")
fid = pytest.importorskip("fastinit.dask")

CHUNKINGS = [(333, 250), (1000, 700), (1, 700), (97, 13), "auto"]


@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize("name, kw", [("normal", {"std": 0.02}), ("uniform", {"a": -1.0, "b": 2.0}),
                                      ("trunc_normal", {"std": 0.02, "a": -0.04, "b": 0.04}),
                                      ("glorot_uniform", {}), ("he_normal", {}), ("variance_scaling", {}),
                                      ("sparse", {"sparsity": 0.3})])
def test_compute_is_bit_identical_to_local(name, kw, chunks):
    lazy = getattr(fid, name)(1000, 700, chunks=chunks, seed=11, stream="layer", **kw)
    local = getattr(fastinit, name)(1000, 700, seed=11, stream="layer", **kw)
    got = lazy.compute(scheduler="threads")
    assert got.dtype == local.dtype and np.array_equal(got, local)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_every_dtype_3d(dtype):
    lazy = fid.normal(6, 50, 70, chunks=(2, 17, 33), seed=2, dtype=dtype)
    local = fastinit.normal(6, 50, 70, seed=2, dtype=dtype)
    assert np.array_equal(lazy.compute().view(np.uint8), local.view(np.uint8))


def test_seed_none_is_drawn_once_per_graph():
    fastinit.manual_seed(5)
    lazy = fid.normal(200, 100, chunks=(50, 100))
    a, b = lazy.compute(), lazy.compute()
    assert np.array_equal(a, b)
    fastinit.manual_seed(5)
    assert np.array_equal(fastinit.normal(200, 100), a)


def test_constants_and_laziness():
    assert (fid.ones(10, 3, chunks=4).compute() == 1).all()
    assert (fid.constant(5, val=0.5, chunks=2, dtype="float64").compute() == 0.5).all()
    big = fid.normal(10**6, 10**6, chunks=(1000, 1000), seed=0)  # 4 TB, never materialized
    corner = big[123_456:123_458, 999_998:].compute()
    assert np.array_equal(corner, fastinit.normal_(np.empty((2, 2), np.float32), seed=0, global_shape=big.shape,
                                                   offset=(123_456, 999_998)))


def test_a_graph_of_many_blocks_costs_no_memory_per_block():
    """Blocks get their slices from dask's lazy ``ArraySliceDep``: building the graph allocates what the chunk sizes
    need, not a record per block (dask's ``block_info=`` took ~1.3 KB and ~25 µs a block: 10**6 blocks in 29 s), and
    a task pickles (as distributed sends it) without the chunk sizes of the whole array."""
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        lazy = fid.uniform(2000, 2000, chunks=(10, 10), seed=0)  # 40,000 blocks
        grown = tracemalloc.get_traced_memory()[1] - base
    finally:
        if not tracing:
            tracemalloc.stop()
    assert lazy.numblocks == (200, 200) and grown < 2 * 2**20, grown
    assert np.array_equal(lazy.blocks[123, 45].compute(),
                          fastinit.uniform_(np.empty((10, 10), np.float32), seed=0, global_shape=(2000, 2000),
                                            offset=(1230, 450)))
    tasks = [dict(fid.normal(n * 10, chunks=10, seed=0).__dask_graph__()) for n in (10, 4000)]
    sizes = [len(pickle.dumps(next(iter(t.values())))) for t in tasks]
    assert sizes[1] < sizes[0] + 64, sizes  # (the edges of 4000 blocks in each task: 12 KB more)


def test_distributed_local_cluster_with_worker_processes():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cl, \
            distributed.Client(cl) as client:
        lazy = fid.kaiming_uniform(600, 400, chunks=(150, 200), seed=7, stream="w")
        got = client.compute(lazy).result()
        workers = client.run(lambda: __import__("os").getpid())
        # a blocked QR: the workers run BLAS with OPENBLAS_NUM_THREADS=1, this process with its cores; the same bits
        q = client.compute(fid.from_initializer(fastinit.orthogonal_, (600, 500), chunks=-1, seed=3)).result()
    assert len(set(workers.values())) == 2
    assert np.array_equal(got, fastinit.kaiming_uniform(600, 400, seed=7, stream="w"))
    assert np.array_equal(q, fastinit.orthogonal_(np.empty((600, 500), np.float32), seed=3))


@pytest.mark.parametrize("build, exc, match", [
    (lambda: fid.normal(4, 4, std=-1, seed=0), ValueError, r"^normal: std must be >= 0, got -1\.0"),
    (lambda: fid.uniform(4, 4, a=1, b=0, seed=0), ValueError, r"^uniform: need a < b, got a=1\.0, b=0\.0"),
    (lambda: fid.kaiming_uniform(4, 4, mode="bogus", seed=0), ValueError, r"Mode bogus not supported"),
    (lambda: fid.xavier_uniform(4, seed=0), ValueError, r"can not be computed for tensor with fewer than 2 dimensions"),
    (lambda: fid.sparse(4, 4, 4, sparsity=0.5, seed=0), ValueError, r"Only tensors with 2 dimensions are supported"),
    (lambda: fid.normal(4, 4, stream=1.5, seed=0), TypeError,
     r"stream must be an int in \[0, 2\*\*64\) or a str, got float 1\.5"),
    (lambda: fid.normal(4, 4, foo=1, seed=0), TypeError,
     r"^normal\(\) got an unexpected keyword argument 'foo' \(see help\(fastinit\.dask\.normal\)\)"),
    (lambda: fid.glorot_uniform(4, 4, rng=1), TypeError,
     r"^glorot_uniform\(\) got an unexpected keyword argument 'rng'"),
    (lambda: fid.constant(4, 4, val=1e10, dtype="float16"), ValueError,
     r"^constant: val=10000000000\.0 overflows float16"),
    (lambda: fid.zeros(4, stream="x"), TypeError, r"^zeros\(\) got an unexpected keyword argument 'stream'"),
    (lambda: fid.from_initializer(fastinit.orthogonal_, (4, 4), chunks=2), ValueError,
     r"orthogonal_ needs the whole tensor in one block; pass chunks=-1"),
    (lambda: fid.from_initializer(fastinit.prior_bias_, (4,), chunks=2, sampled=False, prior=[0.1, 0.2, 0.3, 0.4]),
     ValueError, r"prior_bias_ needs the whole tensor in one block; pass chunks=-1"),
    # a per-unit prior bound by a partial, and a scalar softmax prior (it sums to 1 over the whole bias): both
    # failed on the workers, "prior of shape (6,) does not broadcast" and "must sum to 1" (a review)
    (lambda: fid.from_initializer(functools.partial(fastinit.prior_bias_, prior=[0.1, 0.2, 0.3, 0.4]), (4,), chunks=2,
                                  sampled=False), ValueError, r"^prior_bias_ needs the whole tensor in one block"),
    (lambda: fid.from_initializer(fastinit.prior_bias_, (4,), chunks=2, sampled=False, prior=0.25,
                                  activation="softmax"), ValueError, r"^prior_bias_ needs the whole tensor in one"),
    (lambda: fid.from_initializer(functools.partial(fastinit.prior_bias_, activation="softmax"), (4,), chunks=2,
                                  sampled=False, prior=0.25), ValueError, r"^prior_bias_ needs the whole tensor"),
    # whole-tensor initializers (one chunk): their checks see the whole shape too
    (lambda: fid.from_initializer(fastinit.orthogonal_, (64, 48), chunks=-1, seed=0, gain=float("nan")), ValueError,
     r"orthogonal_: gain must be finite, got nan"),
    (lambda: fid.from_initializer(fastinit.orthogonal_, (64,), chunks=-1, seed=0), ValueError,
     r"Only tensors with 2 or more dimensions are supported"),
    (lambda: fid.from_initializer(fastinit.orthogonal_, (46341, 46341), chunks=-1, seed=0), ValueError,
     r"orthogonal_: a 46341x46341 matrix has more than 2\*\*31 - 1 elements"),
    (lambda: fid.from_initializer(fastinit.dirac_, (4, 2, 3), chunks=-1, sampled=False, groups=3), ValueError,
     r"dim 0 must be divisible by groups"),
    (lambda: fid.from_initializer(fastinit.eye_, (3, 4, 5), chunks=-1, sampled=False), ValueError,
     r"Only tensors with 2 dimensions are supported"),
    (lambda: fid.from_initializer(fastinit.delta_orthogonal_, (3, 3, 8, 4), chunks=-1, seed=0, layout="keras"),
     ValueError, r"delta_orthogonal_: in_channels \(8\) must be <= out_channels \(4\)"),
], ids=["std", "a>b", "mode", "1-D fans", "3-D sparse", "stream", "unknown kw", "alias unknown kw", "overflow",
        "zeros stream",
        "orthogonal chunks", "prior_bias_ chunks", "partial's priors", "softmax prior", "partial's softmax",
        "orthogonal gain", "orthogonal 1-D", "orthogonal LAPACK size", "dirac groups", "eye 3-D",
        "delta in > out"])
def test_bad_arguments_are_refused_when_the_graph_is_built(build, exc, match):
    """Not on a worker at compute time: the error names the argument before any block exists (nothing is
    computed here: the refusal comes from building the graph)."""
    with pytest.raises(exc, match=match):
        build()


def test_prior_bias_blocks():
    """A scalar sigmoid prior is the same value everywhere: any chunks; a softmax one in one block."""
    a = fid.from_initializer(fastinit.prior_bias_, (6,), chunks=2, sampled=False, prior=0.1).compute()
    assert np.array_equal(a, fastinit.prior_bias(0.1, n=6))
    b = fid.from_initializer(fastinit.prior_bias_, (6,), chunks=-1, sampled=False, prior=1 / 6, activation="softmax")
    assert np.array_equal(b.compute(), fastinit.prior_bias(1 / 6, n=6, activation="softmax"))


def test_whole_tensor_initializers_in_one_block():
    a = fid.from_initializer(fastinit.orthogonal_, (6, 4), chunks=-1, seed=1).compute()
    assert np.array_equal(a, fastinit.orthogonal_(np.empty((6, 4), np.float32), seed=1))


def test_generator_and_seed_draws_follow_the_local_calls():
    """generator= is honoured; a refused call and an empty array draw nothing (like fastinit.normal)."""
    g1, g2 = fastinit.Generator(5), fastinit.Generator(5)
    assert np.array_equal(fid.normal(4, 4, generator=g1, chunks=2).compute(), fastinit.normal(4, 4, generator=g2))
    fastinit.manual_seed(1)
    first = fastinit.normal(3)
    fastinit.manual_seed(1)
    for bad, err, match in [(lambda: fid.normal(4, 4, std=-1), ValueError, r"std must be >= 0"),
                            (lambda: fid.xavier_uniform(6, 7, chunks=(3, 7), stream=1.5), TypeError,
                             r"stream must be an int"),
                            (lambda: fid.from_initializer("normal_", (4, 4)), TypeError,
                             r"fill must be an in-place initializer such as fastinit\.normal_, got 'normal_'"),
                            (lambda: fid.normal(4, 4, chunks=0), ValueError, r"chunks=0 does not tile shape \(4, 4\)"),
                            # dask's normalize_chunks passes these (a review: they failed only at compute)
                            (lambda: fid.normal(5, 5, chunks=-2), ValueError, r"axis 0's chunks \(-1,\) are not"),
                            (lambda: fid.normal(6, 5, chunks=((7, -1), (5,))), ValueError, r"chunks \(7, -1\)"),
                            (lambda: fid.zeros(4, 4, seed=3), TypeError, r"zeros_ draws no random values")]:
        with pytest.raises(err, match=match):
            bad()
    assert fid.normal((0, 4)).shape == (0, 4)
    assert np.array_equal(first, fastinit.normal(3))


def test_a_warning_is_given_once_when_the_graph_is_built_not_once_per_block():
    with pytest.warns(UserWarning) as caught:
        x = fid.trunc_normal(400, 300, mean=10.0, std=1.0, a=-2.0, b=2.0, chunks=100, seed=1)
        x.compute(scheduler="threads")  # 12 blocks
    assert [(str(w.message)[:26], w.filename) for w in caught] == [("mean is more than 2 std fr", __file__)]
    with pytest.warns(UserWarning) as caught:  # a spread below float32's resolution: warned by the check too
        fid.from_initializer(fastinit.trunc_normal_, (4, 3), chunks=2, seed=1, mean=1000.0, std=1e-5,
                             a=1000.0002, b=np.inf).compute(scheduler="threads")
    assert sorted(str(w.message)[:20] for w in caught) == ["mean is more than 2 ", "trunc_normal_: the d"]
    # a callable of the user's own is not checked up front: its warnings come from its blocks
    own = fid.from_initializer(lambda out, **kw: fastinit.trunc_normal_(out, 10.0, 1.0, -2.0, 2.0, **kw), (4, 3),
                               chunks=2, seed=1)
    with pytest.warns(UserWarning, match="mean is more than 2 std"):
        own.compute(scheduler="sync")


NAMES = ["xavier_uniform", "xavier_normal", "glorot_uniform", "glorot_normal", "kaiming_uniform", "kaiming_normal",
         "he_uniform", "he_normal", "lecun_uniform", "lecun_normal", "fan_in_uniform", "variance_scaling"]


@pytest.mark.parametrize("name", NAMES)
def test_every_fan_scaled_lazy_initializer_defaults_to_its_local_twin(name):
    shape = (3, 200, 40)  # a (kh, in, out) kernel: its keras and torch fans differ for every scheme
    lazy = getattr(fid, name)(*shape, chunks=(2, 150, 40), seed=9, stream="w").compute(scheduler="sync")
    local = getattr(fastinit, name)(*shape, seed=9, stream="w")
    assert np.array_equal(lazy, local)
    torch_layout = getattr(fastinit, name)(*shape, seed=9, stream="w", layout="torch")
    assert not np.array_equal(local, torch_layout)  # the layouts' fans differ on this shape


def test_arrays_pickle_with_the_standard_library():
    """The graph holds no closure: pickle (not only cloudpickle) carries an array, prior_bias_'s one-block array
    included, and the copy computes the same values."""
    import pickle

    for lazy in (fid.normal(40, 30, chunks=(16, 7), std=0.02, seed=3, stream="w"),
                 fid.from_initializer(fastinit.prior_bias_, (4,), chunks=-1, sampled=False, prior=[0.1, 0.2, 0.3, 0.4]),
                 fid.zeros(5, 6, chunks=2)):
        copy = pickle.loads(pickle.dumps(lazy))
        assert copy.name == lazy.name
        assert np.array_equal(copy.compute(scheduler="sync"), lazy.compute(scheduler="sync"))
    assert np.array_equal(copy.compute(scheduler="sync"), np.zeros((5, 6), np.float32))


def test_an_initializer_without_a_seed_needs_sampled_false():
    with pytest.raises(TypeError, match="eye_ takes no seed .*: pass sampled=False"):
        fid.from_initializer(fastinit.eye_, (3, 3), chunks=-1)
    assert np.array_equal(fid.from_initializer(fastinit.eye_, (3, 3), chunks=-1, sampled=False).compute(), np.eye(3))


def test_a_sampled_fill_without_placement_keywords_is_refused_at_graph_build():
    """Each block of a sampled fill is told global_shape= and offset=: a fill without them failed only at compute,
    chunks=-1 included."""
    def my_fill(out, seed=None):
        out[...] = 0
        return out

    with pytest.raises(TypeError, match="my_fill takes no global_shape= or offset="):
        fid.from_initializer(my_fill, (4, 4), chunks=-1, seed=1)

    def placed(out, seed=None, **place):  # **kwargs takes them
        out[...] = seed
        return out

    assert np.array_equal(fid.from_initializer(placed, (4, 4), chunks=2, seed=3).compute(), np.full((4, 4), 3.0))


def test_a_fill_of_ones_own_may_return_nothing_but_not_a_new_array():
    """The block is what the fill wrote: a fill returning None (as ndarray.fill does) had made each block that
    None, and the array computed to an empty float64 one (a review); a new array means nothing was written."""
    x = fid.from_initializer(lambda out: out.fill(0.5), (4, 3), chunks=2, sampled=False).compute()
    assert x.dtype == np.float32 and np.array_equal(x, np.full((4, 3), 0.5, np.float32))
    y = fid.from_initializer(lambda out: out[::-1], (4, 3), chunks=2, sampled=False)  # a view of it: fine
    assert y.compute().shape == (4, 3)
    z = fid.from_initializer(lambda out: np.ones(out.shape), (4, 3), chunks=2, sampled=False)
    with pytest.raises(TypeError, match="<lambda> returned a new array, not the block it was given"):
        z.compute()
    for empty in (fid.uniform((0, 4), seed=0), fid.normal((4, 0), chunks=2, seed=0),  # empty blocks return themselves
                  fid.from_initializer(fastinit.constant_, (0,), sampled=False, val=1.0)):
        assert empty.compute().shape == empty.shape and empty.compute().dtype == np.float32


def test_unsampled_fills_with_scalar_arguments_may_be_chunked():
    """Only per-unit array arguments (prior_bias_'s priors) need the whole tensor in one block."""
    one = fid.from_initializer(fastinit.prior_bias_, (6,), chunks=2, sampled=False, prior=0.25).compute()
    assert np.array_equal(one, fastinit.prior_bias_(np.empty(6, np.float32), 0.25))

    def fives(out):
        out[...] = 5
        return out

    assert (fid.from_initializer(fives, (4, 4), chunks=2, sampled=False).compute() == 5).all()


def test_a_partial_binding_the_seed_or_place_is_refused_not_replaced():
    """functools.partial(fastinit.orthogonal_, seed=4): each block's seed= replaced the partial's, so every compute
    drew other values, silently (a review)."""
    import functools

    for bound in ({"seed": 4}, {"generator": fastinit.Generator(1)}, {"offset": (0, 0)}):
        fill = functools.partial(fastinit.orthogonal_, **bound)
        with pytest.raises(TypeError, match=rf"^the partial of orthogonal_ binds {list(bound)[0]}=: from_initializer "
                                            r"sets them for each block"):
            fid.from_initializer(fill, (3, 3), chunks=-1)
    for fill in (functools.partial(fastinit.normal_, seed=4), fastinit.normal_):  # each block its own draws
        with pytest.raises(TypeError, match=r"^normal_ draws random values: sampled=False would give every block"):
            fid.from_initializer(fill, (4, 4), chunks=2, sampled=False)
    for call in (lambda: fid.normal(shape=(3, 4)), lambda: fid.constant(3, 4, val=1, sampled=True)):
        with pytest.raises(TypeError, match=r"^(normal|constant)\(\) got an unexpected keyword argument"):
            call()
    kept = fid.from_initializer(functools.partial(fastinit.normal_, std=2.0, stream="x"), (4, 5), chunks=2, seed=1)
    assert np.array_equal(kept.compute(), fastinit.normal(4, 5, std=2.0, stream="x", seed=1))


def test_a_numpy_integer_shape_is_one_axis():
    """from_initializer's shape may be a NumPy integer (one axis), as an int is."""
    lazy = fid.from_initializer(fastinit.normal_, np.int64(6), chunks=4, seed=1)
    assert lazy.shape == (6,) and np.array_equal(lazy.compute(), fastinit.normal(6, seed=1))


def test_an_unsampled_fill_refuses_a_generator_too():
    """sampled=False takes no generator= (as no seed=): it would be silently ignored."""
    g, twin = fastinit.Generator(1), fastinit.Generator(1)
    with pytest.raises(TypeError, match="zeros_ draws no random values"):
        fid.zeros(4, 4, generator=g)
    with pytest.raises(TypeError, match="draws no random values"):
        fid.from_initializer(fastinit.constant_, (4,), chunks=2, sampled=False, generator=g, val=1.0)
    assert g.next_seed() == twin.next_seed()


def test_unknown_chunk_sizes_are_refused_when_the_graph_is_built():
    """NaN (unknown) chunk sizes pass dask's own check; they do not tile the shape."""
    with pytest.raises(ValueError, match=r"does not tile shape \(6, 5\)"):
        fid.normal(6, 5, chunks=((np.nan,), (5,)), seed=0)


def test_a_sampled_fill_with_per_unit_arguments_may_be_chunked():
    """Each block of a sampled fill is told its place, so per-unit array arguments of one's own fill (here a shift
    per column, sliced with offset=) do not need the whole tensor in one block."""
    def shifted(out, *, seed, global_shape, offset, shift):
        fastinit.normal_(out, seed=seed, global_shape=global_shape, offset=offset)
        out += shift[offset[1]:offset[1] + out.shape[1]]

    shift = np.arange(6, dtype=np.float32)
    lazy = fid.from_initializer(shifted, (4, 6), chunks=(2, 3), seed=1, shift=shift)
    assert np.array_equal(lazy.compute(scheduler="sync"), fastinit.normal(4, 6, seed=1) + shift)


def test_a_fill_may_return_anything_but_a_new_array():
    """What a fill returns is not used unless it is a new array: a scalar (a count, a flag) is fine; a view of its
    block is not taken for the block (its values are the block's, in the block's order)."""
    def counted(out):
        out.fill(0.5)
        return out.size  # not an array: ignored

    x = fid.from_initializer(counted, (4, 3), chunks=2, sampled=False).compute(scheduler="sync")
    assert np.array_equal(x, np.full((4, 3), 0.5, np.float32))

    def ramp(out):
        out[...] = np.arange(out.size).reshape(out.shape)
        return out[::-1]  # a view of the block, reversed

    y = fid.from_initializer(ramp, (4, 3), chunks=(2, 3), sampled=False).compute(scheduler="sync")
    assert np.array_equal(y, np.tile(np.arange(6, dtype=np.float32).reshape(2, 3), (2, 1)))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_the_lazy_array_has_its_dtype_before_compute(dtype):
    """The graph's dtype and meta are the array's (dask uses them without computing: concatenation, .astype, map)."""
    lazy = fid.normal(4, 6, chunks=2, dtype=dtype, seed=0)
    want = fastinit.normal(4, 6, dtype=dtype, seed=0).dtype
    assert lazy.dtype == want and lazy._meta.dtype == want
    assert lazy.compute().dtype == want


def test_auto_chunks_are_sized_for_the_arrays_dtype():
    """chunks='auto' sizes blocks by bytes, so a float64 array gets dask's float64 blocks (half a float32's)."""
    shape = (8192, 8192)
    want = da.core.normalize_chunks("auto", shape, dtype=np.float64)
    assert want != da.core.normalize_chunks("auto", shape, dtype=np.float32)  # (the test tells them apart)
    assert fid.normal(*shape, dtype="float64", seed=0).chunks == want


def test_a_fill_whose_signature_is_unknown_is_trusted():
    """A callable inspect cannot read (C extensions, some wrappers) is taken to accept seed=, global_shape= and
    offset= (it fails at compute time if it does not), not refused."""
    class Opaque:
        __signature__ = "not a Signature"  # inspect.signature raises TypeError

        def __call__(self, out, **kw):
            return fastinit.normal_(out, **kw)

    lazy = fid.from_initializer(Opaque(), (4, 6), chunks=(2, 3), seed=3)
    assert np.array_equal(lazy.compute(scheduler="sync"), fastinit.normal(4, 6, seed=3))


def test_a_fill_returning_a_view_of_an_empty_block_is_not_taken_for_a_new_array():
    """An empty block shares no memory even with itself (np.may_share_memory): a view of it that a fill returns
    is fine, as a view of a non-empty block is."""
    x = fid.from_initializer(lambda out: out[::-1], (0, 3), chunks=2, sampled=False)
    assert x.compute(scheduler="sync").shape == (0, 3)
    y = fid.from_initializer(lambda out: out.T, (4, 0), chunks=2, sampled=False)
    assert y.compute(scheduler="sync").shape == (4, 0)


def test_seed_none_draws_nothing_until_the_graph_is_built():
    """The up-front argument check fills a 0-d array's one-element scratch: it must not draw the seed (seed=None),
    so a 0-d lazy array draws the same one seed as the local call."""
    fastinit.manual_seed(5)
    lazy = fid.from_initializer(fastinit.normal_, (), std=2.0)
    fastinit.manual_seed(5)
    local = fastinit.normal_(np.empty((), np.float32), std=2.0)
    assert lazy.shape == () and np.array_equal(lazy.compute(scheduler="sync"), local)
