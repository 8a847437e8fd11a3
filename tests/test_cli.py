"""The command line: `fastinit fill` (and `python -m fastinit`) works, reports, and fails cleanly."""
import subprocess
import sys

import numpy as np

import fastinit
from fastinit.cli import main


def test_fill_reports_throughput_vs_memset(capsys):
    assert main(["fill", "--numel", "2e5", "--dist", "uniform", "--a", "-1", "--b", "1", "--repeat", "2"]) == 0
    out = capsys.readouterr().out
    assert "G elements/s" in out and "fill / memset throughput" in out


def test_fill_writes_the_npy_file_it_reports(tmp_path, capsys):
    path = tmp_path / "w.npy"
    rc = main(["fill", "--numel", "1000", "--dtype", "float16", "--std", "0.02", "--seed", "3",
               "--stream", "w", "--repeat", "1", "--out", str(path)])
    assert rc == 0
    got = np.load(path)
    expected = fastinit.normal_(np.empty(1000, np.float16), 0.0, 0.02, seed=3, stream="w")
    assert np.array_equal(got, expected)


def test_fill_trunc_normal_defaults_to_two_std_bounds(tmp_path, capsys):
    path = tmp_path / "t.npy"
    assert main(["fill", "--numel", "5000", "--dist", "trunc_normal", "--std", "0.02", "--repeat", "1",
                 "--out", str(path)]) == 0
    x = np.load(path)
    assert x.min() >= -0.04 and x.max() <= 0.04 and "on [-0.04, 0.04]" in capsys.readouterr().out


def test_fill_bad_parameters_exit_2_with_message(capsys):
    assert main(["fill", "--numel", "10", "--std", "-1"]) == 2
    assert "std must be >= 0" in capsys.readouterr().err


def test_python_dash_m_and_help():
    out = subprocess.run([sys.executable, "-m", "fastinit", "fill", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--numel" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "fastinit", "fill", "--dtype", "int8"], capture_output=True, text=True)
    assert bad.returncode == 2 and "dtype must be one of" in bad.stderr
