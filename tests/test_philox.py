"""Bits: Philox4x32 against the Random123 known-answer vectors, and its public wrapper."""
import numpy as np
import pytest

import fastinit

# Random123 tests/kat_vectors, every philox4x32 line (rounds, counter[4], key[2], expected[4])
KAT = [
    (7, "00000000 00000000 00000000 00000000", "00000000 00000000", "5f6fb709 0d893f64 4f121f81 4f730a48"),
    (7, "ffffffff ffffffff ffffffff ffffffff", "ffffffff ffffffff", "5207ddc2 45165e59 4d8ee751 8c52f662"),
    (7, "243f6a88 85a308d3 13198a2e 03707344", "a4093822 299f31d0", "4dfccaba 190a87f0 c47362ba b6b5242a"),
    (10, "00000000 00000000 00000000 00000000", "00000000 00000000", "6627e8d5 e169c58d bc57ac4c 9b00dbd8"),
    (10, "ffffffff ffffffff ffffffff ffffffff", "ffffffff ffffffff", "408f276d 41c83b0e a20bc7c6 6d5451fd"),
    (10, "243f6a88 85a308d3 13198a2e 03707344", "a4093822 299f31d0", "d16cfe09 94fdcceb 5001e420 24126ea1"),
]


def _hex(words):
    return [int(w, 16) for w in words.split()]


@pytest.mark.parametrize("rounds, ctr, key, expected", KAT)
def test_philox_known_answers(rounds, ctr, key, expected):
    out = fastinit.philox4x32(_hex(ctr), _hex(key), rounds=rounds)
    assert out.dtype == np.uint32
    assert out.tolist() == _hex(expected)


def test_philox_default_is_ten_rounds():
    ctr, key = _hex(KAT[5][1]), _hex(KAT[5][2])
    assert fastinit.philox4x32(ctr, key).tolist() == _hex(KAT[5][3])


def test_philox_broadcasts_over_leading_axes():
    ctr = np.array([_hex(k[1]) for k in KAT[3:]], dtype=np.uint32)
    key = np.array([_hex(k[2]) for k in KAT[3:]], dtype=np.uint32)
    out = fastinit.philox4x32(ctr, key)
    assert out.shape == (3, 4)
    assert out.tolist() == [_hex(k[3]) for k in KAT[3:]]
    one_key = fastinit.philox4x32(ctr, key[0])
    assert one_key[0].tolist() == _hex(KAT[3][3])


@pytest.mark.parametrize("ctr, key", [([0, 0, 0], [0, 0]), ([0, 0, 0, 0], [0, 2**32]), ([0, 0, 0, -1], [0, 0])])
def test_philox_rejects_bad_words(ctr, key):
    with pytest.raises(ValueError, match="counter|key"):
        fastinit.philox4x32(ctr, key)
