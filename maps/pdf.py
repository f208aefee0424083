"""Printing pages to PDF with headless Chromium, the browser the officers' pages are made for.

Chromium lays the page out with its print styles (``@page`` size and margins), so what is printed from the PDF
is what a supervisor would get printing the HTML sheet from a browser.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from maps.errors import MapError

__all__ = ["CHROMIUM_FLAGS", "PdfError", "chromium_path", "print_pdf"]

# The flags every headless run uses: no sandbox (we run as a service user or root in CI), no GPU, and no
# calls home of any kind.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


class PdfError(MapError):
    """A page could not be printed to PDF."""


def chromium_path() -> str:
    """The Chromium executable on PATH.

    Raises
    ------
    PdfError
        When no Chromium is installed (``apt-get install chromium``).
    """
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None:
        msg = "printing to PDF needs headless Chromium: apt-get install chromium"
        raise PdfError(msg)
    return found


def print_pdf(html_path: Path, pdf_path: Path, *, timeout_s: float = 120.0) -> Path:
    """Print a local HTML file to PDF, without the browser's header and footer.

    Parameters
    ----------
    html_path
        The page to print; relative links in it resolve against its folder.
    pdf_path
        Where to write the PDF (its folder is created when missing).
    timeout_s
        How long Chromium may take.

    Returns
    -------
    Path
        ``pdf_path``.

    Raises
    ------
    PdfError
        When Chromium is missing, fails, times out or writes no PDF.
    """
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="doorstep-chromium-") as profile:
        command = [
            chromium_path(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf_path}",
            html_path.resolve().as_uri(),
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as err:
            msg = f"Chromium took more than {timeout_s:.0f} s to print {html_path}"
            raise PdfError(msg) from err
    if result.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        tail = (result.stderr or "").strip().splitlines()[-3:]
        msg = f"Chromium could not print {html_path} (exit {result.returncode}): {' | '.join(tail)}"
        raise PdfError(msg)
    return pdf_path
