"""The samples command's entry point (the full page takes ~10 s: run it by hand)."""

from __future__ import annotations

from generation.samples import main


def test_samples_without_an_outdir_prints_usage_and_fails(capsys) -> None:
    assert main([]) == 2
    assert "usage: python -m generation.samples OUTDIR" in capsys.readouterr().err
