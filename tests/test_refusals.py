"""Bad input: a clear TypeError/ValueError naming the argument, raised before any write."""
import threading
import warnings

import ml_dtypes
import numpy as np
import pytest

import fastinit

BAD_CALLS = [
    # (initializer, args, kwargs, exception, message fragment)
    ("uniform_", (np.nan, 1.0), {}, ValueError, "a must be finite"),
    ("uniform_", (0.0, np.inf), {}, ValueError, "b must be finite"),
    ("uniform_", (1.0, 1.0), {}, ValueError, "a < b"),
    ("uniform_", (2.0, 1.0), {}, ValueError, "a < b"),
    ("uniform_", ("0", 1.0), {}, TypeError, "a must be a real number"),
    ("uniform_", (True, 2.0), {}, TypeError, "a must be a real number"),
    ("uniform_", (-3e38, 3e38), {}, ValueError, "overflows"),
    ("uniform_", (1.0001, 1.0002), {}, ValueError, "no finite float16 value"),
    ("trunc_normal_", (), {"a": 1e-307, "b": 1e-178}, ValueError, r"lies in \[1e-307, 1e-178\] \(a, b\)"),
    ("uniform_", (0.0, 1e5), {}, ValueError, "exceed the finite range of float16"),
    ("normal_", (0.0, -1.0), {}, ValueError, "std must be >= 0"),
    ("normal_", (np.nan, 1.0), {}, ValueError, "mean must be finite"),
    ("normal_", (0.0, np.inf), {}, ValueError, "std must be finite"),
    ("normal_", (0.0, 1e4), {}, ValueError, "beyond the largest finite float16"),
    ("normal_", (0.0, None), {}, TypeError, "std must be a real number"),
    ("uniform_", (), {"seed": -1}, ValueError, "seed must lie in"),
    ("uniform_", (), {"seed": 2**64}, ValueError, "seed must lie in"),
    ("uniform_", (), {"seed": 1.5}, TypeError, "seed must be an int"),
    ("uniform_", (), {"seed": True}, TypeError, "seed must be an int"),
    ("uniform_", (), {"stream": -1}, ValueError, "stream must lie in"),
    ("uniform_", (), {"stream": 2.0}, TypeError, "stream must be an int"),
    ("uniform_", (), {"global_shape": (4, 5)}, ValueError, "does not fit in global_shape"),
    ("uniform_", (), {"global_shape": (8, 8), "offset": (5, 0)}, ValueError, "does not fit"),
    ("uniform_", (), {"global_shape": (8,)}, ValueError, "same number of axes"),
    ("uniform_", (), {"global_shape": (8, 8), "offset": (0,)}, ValueError, "one entry per axis"),
    ("uniform_", (), {"offset": (0, 0)}, ValueError, "offset= needs global_shape="),
    ("uniform_", (), {"global_shape": (8, -8)}, ValueError, "global_shape must be"),
    ("uniform_", (), {"global_shape": (2**40, 2**40)}, ValueError, "2\\*\\*64"),
    ("uniform_", (), {"global_shape": map(int, (6, 7))}, TypeError, "global_shape must be a tuple of ints"),
    ("trunc_normal_", (), {"global_shape": (6, 7), "offset": iter((0, 0))}, TypeError, "offset must be a tuple"),
    ("uniform_", (), {"dtype": np.float32}, TypeError, "does not match"),
    ("constant_", (1e6,), {}, ValueError, "overflows float16"),
    ("constant_", ("x",), {}, TypeError, "val must be a real number"),
    ("constant_", (10**400,), {}, ValueError, "an int of 1329 bits overflows float16"),
    ("kaiming_normal_", (float("nan"),), {}, ValueError, "a \\(the negative slope\\) must be finite"),
    # NumPy's timedelta64 is an np.integer: had been taken as a number (a review, 2026-12-06 (e))
    ("normal_", (0.0, np.timedelta64(1)), {}, TypeError, "std must be a real number, got timedelta64"),
    ("normal_", (0.0, np.timedelta64(1, "s")), {}, TypeError, "std must be a real number, got timedelta64"),
    ("uniform_", (), {"seed": np.timedelta64(3)}, TypeError, "seed must be an int in"),
    ("uniform_", (), {"stream": np.timedelta64(3)}, TypeError, "stream must be an int in"),
    ("xavier_uniform_", (), {"gain": np.timedelta64(2, "Y")}, TypeError, "gain must be a real number"),
    ("sparse_", (np.timedelta64(0),), {}, TypeError, "sparsity must be a real number"),
    ("uniform_", (), {"global_shape": (6, np.timedelta64(7))}, TypeError, "global_shape must be a tuple of ints"),
    ("uniform_", (), {"global_shape": (6, np.array(7.0))}, TypeError, "global_shape must be a tuple of ints"),
    ("uniform_", (), {"global_shape": (6, np.array(True))}, TypeError, "global_shape must be a tuple of ints"),
    ("variance_scaling_", (1.0, "fan_in", "normal"), {"in_axis": True}, TypeError, "in_axis must be an int or a "),
    ("variance_scaling_", (1.0, "fan_in", "normal"), {"in_axis": "1"}, TypeError, "in_axis must be an int or a "),
    ("variance_scaling_", (1.0, "fan_in", "normal"), {"out_axis": (np.True_,)}, TypeError, "out_axis must be"),
    ("orthogonal_", (1e5,), {}, ValueError, r"\|gain\| = 100000 overflows float16"),
    ("orthogonal_", (-1e5,), {}, ValueError, r"\|gain\| = 100000 overflows float16"),  # a negative gain's too
]


@pytest.mark.parametrize("fn, args, kw, exc, msg", BAD_CALLS)
def test_refused_call_leaves_buffer_untouched(fn, args, kw, exc, msg):
    out = np.random.default_rng(0).standard_normal((6, 7)).astype(np.float16)
    before = out.copy()
    with pytest.raises(exc, match=msg):
        getattr(fastinit, fn)(out, *args, **kw)
    assert np.array_equal(out.view(np.uint16), before.view(np.uint16))


@pytest.mark.parametrize("dtype", [np.int32, np.uint16, np.complex64, np.bool_, object, np.float128])
def test_unsupported_dtype_is_type_error_naming_out(dtype):
    out = np.zeros(10, dtype)
    with pytest.raises(TypeError, match="out has dtype .* supported dtypes are float16, bfloat16"):
        fastinit.uniform_(out)


def test_read_only_array_refused():
    out = np.zeros(10, np.float32)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out is read-only"):
        fastinit.normal_(out)
    with pytest.raises(ValueError, match="read-only"):
        fastinit.uniform_(np.broadcast_to(np.zeros(1, np.float32), (10,)))


def test_read_only_buffers_refused():
    with pytest.raises(ValueError, match="read-only"):
        fastinit.uniform_(bytes(40), dtype="float32")
    with pytest.raises(ValueError, match="read-only"):
        fastinit.uniform_(memoryview(bytes(40)).cast("f"))


def test_untyped_bytes_need_dtype():
    buf = bytearray(40)
    with pytest.raises(TypeError, match="pass dtype="):
        fastinit.uniform_(buf)
    assert buf == bytearray(40)
    with pytest.raises(ValueError, match="not a multiple"):
        fastinit.uniform_(bytearray(42), dtype="float32")
    with pytest.raises(TypeError, match="dtype must be one of"):
        fastinit.uniform_(bytearray(40), dtype="int8")


def test_ctypes_byte_arrays_are_untyped_bytes():
    import ctypes
    for buf in [(ctypes.c_ubyte * 16)(), ctypes.create_string_buffer(16)]:  # formats '<B', '<c'
        with pytest.raises(TypeError, match="untyped byte buffer; pass dtype="):
            fastinit.uniform_(buf)
        fastinit.uniform_(buf, seed=5, dtype="float32")
        assert np.array_equal(np.frombuffer(buf, np.float32), fastinit.uniform_(np.empty(4, np.float32), seed=5))


def test_byte_arrays_and_default_memmaps_are_untyped_bytes(tmp_path):
    """np.memmap's default dtype is uint8: with dtype= its bytes are filled as a bytearray's would be."""
    (tmp_path / "w.bin").write_bytes(bytes(16))
    m = np.memmap(tmp_path / "w.bin", mode="r+")
    with pytest.raises(TypeError, match="byte array such as np.memmap's default uint8, dtype= to fill its bytes"):
        fastinit.uniform_(m, seed=5)
    assert fastinit.uniform_(m, seed=5, dtype="float32") is m
    m.flush()
    expected = fastinit.uniform_(np.empty(4, np.float32), seed=5)
    assert np.array_equal(np.fromfile(tmp_path / "w.bin", np.float32), expected)
    a = np.zeros((4, 8), np.int8)
    fastinit.normal_(a, seed=1, dtype="float64")
    assert np.array_equal(a.view(np.float64).ravel(), fastinit.normal_(np.empty(4), seed=1))
    for bad, exc, msg in [(a[:, ::2], ValueError, "non-contiguous byte buffer"),
                          (np.zeros(6, np.uint8), ValueError, "not a multiple")]:
        before = bad.copy()
        with pytest.raises(exc, match=msg):
            fastinit.normal_(bad, seed=1, dtype="float32")
        assert np.array_equal(bad, before)


def test_typed_buffers_with_their_own_dtype_fill_like_without():
    """dtype= naming a typed buffer's own element type: empty, strided and Fortran buffers fill as without it."""
    for arr in [np.empty((0, 3), np.float32), np.empty((6, 8), np.float32)[:, ::2], np.empty((5, 4), order="F")]:
        ref = fastinit.normal_(np.empty(arr.shape, arr.dtype), seed=2)
        arr[...] = 0
        fastinit.normal_(memoryview(arr), seed=2, dtype=arr.dtype)
        assert np.array_equal(arr, ref)
    raw = np.zeros((4, 6), np.uint16)[:, ::2]  # 16-bit integer storage, strided, read as float16
    fastinit.uniform_(memoryview(raw), seed=3, dtype="float16")
    assert np.array_equal(raw.view(np.float16), fastinit.uniform_(np.empty((4, 3), np.float16), seed=3))


def test_byte_swapped_16_bit_integer_storage_is_not_read_as_float16_or_bfloat16():
    """'>i2' storage with dtype='float16' was written in native byte order: read back as '>f2' (as a '>f2' array,
    refused, would be), other numbers.  An array, a buffer: refused, untouched."""
    for dt in ("float16", "bfloat16"):
        for swapped in (np.arange(4, dtype=">i2"), np.arange(4, dtype=">u2")):
            for out in (swapped, memoryview(swapped)):
                with pytest.raises(TypeError, match="native byte order"):
                    fastinit.normal_(out, seed=3, dtype=dt)
                assert np.array_equal(swapped, np.arange(4))


def test_a_2_byte_structured_array_is_not_relabelled_as_float16_but_raw_void_is():
    """A structured dtype holds numbers of its own: dtype= does not reinterpret it (it had, as kind 'V'); plain
    2-byte void, raw bytes, is read as float16 / bfloat16 like 16-bit integer storage."""
    pairs = np.arange(8, dtype=np.uint8).view([("a", "u1"), ("b", "u1")])
    before = pairs.copy()
    with pytest.raises(TypeError, match=r"dtype='float16' does not match out.dtype \(\[\('a', 'u1'\)"):
        fastinit.uniform_(pairs, seed=3, dtype="float16")
    assert np.array_equal(pairs, before)
    raw = np.zeros(4, "V2")
    fastinit.uniform_(raw, seed=3, dtype="bfloat16")
    assert np.array_equal(raw.view(np.uint16), fastinit.uniform_(np.zeros(4, np.uint16), seed=3, dtype="bfloat16"))


def test_buffer_formats_numpy_cannot_read_are_type_errors_naming_out():
    import ctypes
    for buf in [(ctypes.c_wchar * 4)(), (ctypes.c_longdouble * 2)(), (ctypes.POINTER(ctypes.c_int) * 2)()]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no NumPy warning leaks either
            with pytest.raises(TypeError, match="out's buffer format .* is not one NumPy reads|out has dtype"):
                fastinit.uniform_(buf)


def test_an_empty_global_shape_whose_strides_overflow_is_refused():
    with pytest.raises(ValueError, match=r"spans 18446744073709551616 elements; at most 2\*\*64 - 1"):
        fastinit.uniform_(np.zeros((0, 5), np.float32), global_shape=(0, 2**64))


@pytest.mark.parametrize("target", [None, 3.0, [1.0, 2.0], "abc"])
def test_non_buffer_targets_refused(target):
    first = r"; the array to fill comes first \(normal_\(out, mean, std\)\), and the allocating twins" if \
        isinstance(target, (float, list)) else "$"  # numpy's normal(loc, scale, size) order, said
    with pytest.raises(TypeError, match="out must be a numpy array, a torch CPU tensor or expose the buffer protocol"
                                        rf".*got {type(target).__name__}{first}"):
        fastinit.uniform_(target)


def test_a_jax_array_is_refused_pointing_at_fastinit_jax():
    jnp = pytest.importorskip("jax.numpy")
    with pytest.raises(ValueError, match=r"^out is read-only \(\w+\); fastinit needs a writable buffer; JAX arrays are "
                                         "immutable: fastinit.jax's initializers make new ones$"):
        fastinit.normal_(jnp.zeros(3), seed=0)


def test_overlapping_strides_refused():
    base = np.zeros(16, np.float32)
    overlap = np.lib.stride_tricks.as_strided(base, shape=(4, 4), strides=(0, 4))
    with pytest.raises(ValueError, match="zero strides"):
        fastinit.uniform_(overlap)
    assert not base.any()


def test_zero_element_targets_are_a_no_op():
    for shape in [(0,), (0, 5), (3, 0, 2)]:
        out = np.empty(shape, np.float32)
        assert fastinit.uniform_(out) is out
        assert fastinit.normal_(out, seed=1) is out
        assert fastinit.zeros_(out) is out


@pytest.mark.parametrize("fn, args, kw, exc, msg", [
    ("normal_", (0.0, 1e5), {}, ValueError, "beyond the largest finite float16"),
    ("uniform_", (-6e4, 6e4), {}, None, None),  # width overflows float16, not the float32 computation
    ("sparse_", (0.1, 1e5), {}, ValueError, "beyond the largest finite float16"),
    ("xavier_uniform_", (), {"seed": -1}, ValueError, "seed must lie in"),
    ("kaiming_uniform_", (), {"stream": 1.5}, TypeError, "stream must be an int"),
    ("lecun_normal_", (), {"generator": 3}, TypeError, "generator must be"),
    ("lecun_normal_", (), {"generator": np.random.default_rng(0)}, TypeError,
     r"got numpy\.random\.Generator; draw a seed from it instead: seed=int\(rng\.integers\(2\*\*63\)\)"),
    ("lecun_normal_", (), {"generator": np.random.RandomState(0)}, TypeError,
     r"got numpy\.random\.mtrand\.RandomState; draw a seed from it instead: seed=int\(rs\.randint\(2\*\*63\)\)$"),
    ("lecun_normal_", (), {"generator": np.int64(5)}, TypeError, r"got numpy\.int64; a seed goes to seed=$"),
    ("lecun_normal_", (), {"generator": True}, TypeError, r"got bool$"),  # (not a seed: no hint)
])
def test_an_empty_block_of_a_tensor_is_checked_like_any_other(fn, args, kw, exc, msg):
    """A zero-element block (the check writers and fastinit.dask make before the first write) refuses what a
    full block would: the range checks and, for the fan-scaled initializers, seed, stream and generator."""
    empty = np.empty((0, 7), np.float16)
    call = lambda: getattr(fastinit, fn)(empty, *args, global_shape=(6, 7), offset=(0, 0), **kw)  # noqa: E731
    if exc is None:
        assert call() is empty
        return
    with pytest.raises(exc, match=msg):
        call()


@pytest.mark.parametrize("dtype", [np.float32, ml_dtypes.bfloat16])
def test_a_uniform_width_that_only_the_kernels_round_to_inf_is_refused(dtype):
    """fl32(b) - fl32(a) is float32's largest value here, but the width the kernels use, fl32(b - a), is inf: this
    was accepted and wrote NaN where u = 0 (inf * 0) and one clamped value everywhere else."""
    out = np.zeros(64, dtype)
    with pytest.raises(ValueError, match="b - a = .* overflows the computation precision of"):
        fastinit.uniform_(out, -(2.0**127 - 2.0**104), 2.0**127 + 2.0**103, seed=1)
    assert not out.astype(np.float32).any()
    wide = fastinit.uniform_(np.empty(2**16, dtype), -(2.0**127 - 2.0**104), 2.0**127, seed=1)  # width: the largest
    assert np.isfinite(wide.astype(np.float32)).all() and np.unique(wide).size > 1000


def test_bfloat16_bounds_refusal_and_success():
    out = np.zeros(100, ml_dtypes.bfloat16)
    with pytest.raises(ValueError, match="no finite bfloat16 value"):
        fastinit.uniform_(out, 1.001, 1.002)
    assert not out.astype(np.float32).any()
    fastinit.uniform_(out, 1.0, 1.005, seed=0)
    assert (out.astype(np.float32) == 1.0).all()  # the only bfloat16 in [1, 1.005) is 1.0


def test_small_argument_forms_are_refused_or_taken_by_name():
    """torch dtypes are taken by name; a dict is not a shape; a stream with no UTF-8 form and torch dtypes with no
    NumPy form are refused with fastinit's own messages."""
    torch = pytest.importorskip("torch")
    assert fastinit.normal(3, dtype=torch.bfloat16, seed=1).dtype.name == "bfloat16"
    assert np.array_equal(fastinit.normal(3, dtype=torch.float32, seed=1), fastinit.normal(3, seed=1))
    out = np.zeros((6, 7))
    for kw, err, msg in [(dict(global_shape={6: 1, 7: 2}, offset=(0, 0)), TypeError, "global_shape must be a tuple"),
                         (dict(stream="\ud800"), ValueError, "encodable as UTF-8"),
                         (dict(dtype=torch.int32), TypeError, "dtype must be one of")]:
        with pytest.raises(err, match=msg):
            fastinit.uniform_(out, **kw)
    assert not out.any()
    with pytest.raises(TypeError, match="out has dtype torch.float8_e4m3fn; supported"):
        fastinit.normal_(torch.empty(3, dtype=torch.float8_e4m3fn))
    from fractions import Fraction  # a numbers.Real, taken as its float
    assert np.array_equal(fastinit.uniform_(np.empty(3), Fraction(1, 4), 1, seed=1),
                          fastinit.uniform_(np.empty(3), 0.25, 1, seed=1))
    with pytest.raises(ValueError, match="overflows float32"):  # a finite number, however large, is not inf
        fastinit.constant_(np.zeros(2, np.float32), Fraction(10**400))


def test_a_0_d_integer_array_is_a_size_as_numpy_and_torch_take_it():
    """np.empty(np.array(3)) and torch.empty(np.array(3)) take a 0-d integer array as a size: so do shapes, global
    shapes and offsets (a 0-d bool or float array is still refused, above)."""
    torch = pytest.importorskip("torch")
    three = (np.array(3), np.uint8(3), torch.tensor(3))
    for n in three:
        assert np.array_equal(fastinit.normal(n, seed=1), fastinit.normal(3, seed=1))
    for n in (np.array(3.0), np.array(True), torch.tensor(True)):
        with pytest.raises(TypeError, match="shape must be a tuple of ints"):
            fastinit.normal(n, seed=1)
    whole = fastinit.uniform_(np.empty((6, 7)), seed=2)
    part = fastinit.uniform_(np.empty((3, 7)), seed=2, global_shape=(np.array(6), torch.tensor(7)),
                             offset=(np.array(3), 0))
    assert np.array_equal(part, whole[3:])


def test_quiet_blocks_silence_fastinit_warnings_in_their_thread_only_and_nest():
    """Writers fill their blocks under fastinit._warnings.quiet after warning once at the check; an inner
    quiet(False) (a block that is not checked) does not undo an enclosing quiet block."""
    from fastinit._warnings import quiet

    far = lambda: fastinit.trunc_normal_(np.empty(4), mean=9.0, seed=0)  # noqa: E731 - warns
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with quiet():
            far()
            with quiet(False):
                far()
            other = threading.Thread(target=far)  # another thread is not quiet
            other.start()
            other.join()
        far()
    assert len(seen) == 2, [str(w.message) for w in seen]


def test_warnings_point_at_the_callers_line_whatever_the_route():
    """torch's warnings name the user's line (and so show once per calling line); fastinit's do too, through the
    in-place functions, the allocating twins and fastinit.torch alike."""
    torch = pytest.importorskip("torch")
    import fastinit.torch as fit

    calls = [lambda: fastinit.kaiming_normal_(np.empty((0, 3), np.float32)),
             lambda: fastinit.he_uniform((0, 3)),
             lambda: fit.kaiming_uniform_(torch.empty(0, 3)),
             lambda: fastinit.trunc_normal_(np.empty(4), mean=9.0, seed=0),
             lambda: fit.trunc_normal_(torch.empty(4), mean=9.0, seed=0)]
    for call in calls:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            call()
        assert [w.filename for w in seen] == [__file__], [(w.filename, w.lineno, str(w.message)) for w in seen]
        assert seen[0].lineno == call.__code__.co_firstlineno


@pytest.mark.parametrize("offset", [(3, 0), (0, 2)])
def test_block_overhanging_the_global_shape_by_one_element_is_refused(offset):
    out = np.full((6, 7), 7.0, np.float32)  # (3, 0): rows 3..8 of 8; (0, 2): columns 2..8 of 8
    with pytest.raises(ValueError, match="does not fit in global_shape"):
        fastinit.uniform_(out, seed=0, global_shape=(8, 8), offset=offset)
    assert (out == 7.0).all()
    fastinit.uniform_(out, seed=0, global_shape=(8, 8), offset=(offset[0] - 1 if offset[0] else 0,
                                                                 offset[1] - 1 if offset[1] else 0))  # exact fit: fine


@pytest.mark.parametrize("shape, strides", [((3, 2), (4, 4)), ((8, 3), (4, 4)), ((4, 2, 2), (16, 8, 8))])
def test_views_whose_stride_equals_the_smaller_axes_extent_are_refused(shape, strides):
    base = np.zeros(64, np.float32)
    view = np.lib.stride_tricks.as_strided(base, shape=shape, strides=strides)
    with pytest.raises(ValueError, match="may share memory"):
        fastinit.uniform_(view, seed=0)
    assert (base == 0).all()


def test_a_finite_long_double_beyond_float64_is_refused_not_written_as_inf():
    big = np.longdouble(10) ** 400
    if not np.isfinite(big):
        pytest.skip("this platform's long double is float64")
    out = np.zeros(4)
    with pytest.raises(ValueError, match="val=1e\\+400... overflows float64"):
        fastinit.constant_(out, big)
    with pytest.raises(ValueError, match="mean=1e\\+400... overflows float64"):
        fastinit.normal_(out, big, seed=0)
    assert (out == 0).all()
    assert np.isinf(fastinit.constant_(out, np.longdouble("inf"))).all()  # an infinite one is a constant


def test_a_released_memoryview_and_a_float64_span_are_refused_naming_what_to_change():
    """A released memoryview's ValueError names out; a float64 truncated normal whose span overflows float64 is
    not told to use a float64 target (a review, 2026-12-06 (e))."""
    m = memoryview(bytearray(8))
    m.release()
    with pytest.raises(ValueError, match="^out: operation forbidden on released memoryview"):
        fastinit.uniform_(m, dtype="float32", seed=1)
    out = np.zeros(4)
    with pytest.raises(ValueError, match="beyond the largest finite float64 .*: narrow \\[a, b\\] or move mean$"):
        fastinit.trunc_normal_(out, 1e308, 1e308, -1e308, np.inf, seed=1)
    assert not out.any()
    with pytest.raises(ValueError, match="^orthogonal: cannot fill a shard"):  # (the twin's own name)
        fastinit.orthogonal(4, 4, global_shape=(8, 4))


@pytest.mark.parametrize("chunk", [True, False])
def test_bool_chunk_refused_before_any_write(chunk):
    """_chunk must be a non-negative int, not a bool (mutant I25)."""
    out = np.full(8, 7.0, np.float32)
    with pytest.raises(ValueError, match="_chunk must be"):
        fastinit.uniform_(out, seed=0, _chunk=chunk)
    assert np.all(out == 7.0)


def test_float64_normal_reach_uses_float64_zmax():
    """float64 normals reach |z| <= 8.65, not float32's 6.764: std = max/7 can reach inf and is refused (mutant I7)."""
    out = np.full(4, 7.0)
    with pytest.raises(ValueError, match="can reach"):
        fastinit.normal_(out, 0.0, float(np.finfo(np.float64).max) / 7, seed=0)
    assert np.all(out == 7.0)
