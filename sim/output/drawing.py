"""Drawing figures into PNG bytes: once each, side by side in forked processes where it helps.

A report's figures are :class:`FigureJob` s (a maker and its arguments), not drawn figures, so
that the drawing can happen in another process. Every report (a run's, a comparison's, a
sweep's) saves its figures through :func:`save_figures` or :func:`save_drawing`.

A command can go further with a :class:`DrawingHost`: a process forked at its start that
imports the plotting stack on the core the start-up leaves idle and later draws the
command's figures, which are then named (:class:`FigureList`) rather than made, so that the
command's own process never imports matplotlib. This module imports it only when a figure is
drawn here.
"""

from __future__ import annotations

import base64
import importlib
import io
import multiprocessing
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure


DPI = 110
"""The resolution of every figure's PNG."""

MARGIN_INCHES = 3.0
"""Room drawn around a figure for what lies outside it (a legend beside the panel, long bar
labels: up to 1.7 inches in the run's figures), so that one drawing holds all it shows. A
larger canvas costs little (clearing and copying its pixels: 1-2 ms a figure an inch)."""

EDGE_INCHES = 0.5
"""Ink this close to the room's edge may have been cut there (a text is cut glyph by glyph,
so its drawn part can stop short of the edge): the figure is then drawn tight instead."""

COMPRESS_LEVEL = 1
"""zlib's level for the PNGs. Level 6 (Pillow's default, which matplotlib's PNGs use) took 5 %
more of a run's figure time for files 5 % smaller; written without the alpha channel of an
opaque figure, a run's eleven are still 4 % smaller than matplotlib's own (758 against 792 kB
for the baseline's, docs/performance.md, step 53)."""


def png_bytes(fig: Any) -> bytes:
    """A figure drawn once as PNG (:data:`DPI`), cut to what it shows with matplotlib's pad
    around it (``savefig.pad_inches``, 0.1 inch), as ``bbox_inches="tight"`` cuts it; the
    figure is closed."""
    _freeze_date_ticks(fig)
    _fix_titles_in_place(fig)
    return _png(fig)


def _png(fig: Any) -> bytes:
    """The PNG of a figure as it stands (:func:`png_bytes` without its preparations); the
    figure is closed."""
    import matplotlib

    matplotlib.use("Agg")  # as every module making figures sets it: files, no window
    import matplotlib.pyplot as plt

    try:
        return _drawn_once(fig) or _drawn_tight(fig)
    finally:
        plt.close(fig)


def _drawn_tight(fig: Any) -> bytes:
    """matplotlib's own tight PNG: a layout pass to measure every artist, then a drawing at
    the size they need."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def _drawn_once(fig: Any) -> bytes | None:
    """The figure drawn once, on a canvas :data:`MARGIN_INCHES` wider on every side, and cut to
    its drawn pixels and the pad; None where that cannot stand for the tight PNG (something
    drawn comes within :data:`EDGE_INCHES` of the canvas's edge, and so may go beyond it; a
    layout engine, which lays the figure out at the canvas's size, and which ``tight_layout``
    also leaves on a figure; an empty figure).

    matplotlib's tight PNG lays the figure out once to measure it and then draws it on a new,
    cut canvas, whose renderer measures every text again: about a quarter of a figure's time
    (docs/performance.md, step 53). The axes keep their places in inches either way (an
    explicit box moves the canvas's edges, not the figure's contents), so the picture is
    the same; the cut follows the ink rather than the artists' boxes (a text's box holds
    its line height), so an image may be a pixel or two narrower or shorter, and the
    contents sit up to a pixel from where the tight PNG puts them (whole pixels here,
    fractions there). What a maker places wholly beyond the room (an artist put more than
    2.5 inches outside the figure, clear of everything else) is not seen, and not drawn: no
    figure of the reports does that (their figures are compared with the tight PNG in
    tests/test_report.py)."""
    import matplotlib
    import numpy as np
    from matplotlib.transforms import Bbox
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    pad_inches = matplotlib.rcParams["savefig.pad_inches"]
    if fig.get_layout_engine() is not None or not isinstance(pad_inches, float | int):
        return None
    width, height = fig.get_size_inches()
    box = Bbox.from_extents(
        -MARGIN_INCHES, -MARGIN_INCHES, width + MARGIN_INCHES, height + MARGIN_INCHES
    )
    raw = io.BytesIO()
    fig.savefig(raw, format="rgba", dpi=DPI, bbox_inches=box)
    columns, rows = int(box.width * DPI), int(box.height * DPI)
    data = raw.getvalue()
    if len(data) != rows * columns * 4:  # not the canvas's size as worked out here
        return None
    pixels = np.frombuffer(data, dtype=np.uint8).reshape(rows, columns, 4)
    words = pixels.view(np.uint32).reshape(rows, columns)  # a pixel as one number
    drawn = words != words[0, 0]  # not the background (the corner is in the margin)
    ys = np.flatnonzero(drawn.any(axis=1))
    xs = np.flatnonzero(drawn.any(axis=0))
    edge = round(EDGE_INCHES * DPI)
    if not ys.size or min(ys[0], xs[0], rows - 1 - ys[-1], columns - 1 - xs[-1]) < edge:
        return None
    pad = round(pad_inches * DPI)
    top, bottom = max(ys[0] - pad, 0), min(ys[-1] + 1 + pad, rows)
    left, right = max(xs[0] - pad, 0), min(xs[-1] + 1 + pad, columns)
    cut = pixels[top:bottom, left:right]
    if (cut[:, :, 3] == 255).all():  # opaque, as a figure on its face colour is: RGB
        cut = cut[:, :, :3]
    info = PngInfo()  # what matplotlib writes in its own PNGs
    info.add_text(
        "Software", f"Matplotlib version{matplotlib.__version__}, https://matplotlib.org/"
    )
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(cut)).save(
        out, format="png", dpi=(DPI, DPI), compress_level=COMPRESS_LEVEL, pnginfo=info
    )
    return out.getvalue()


def _freeze_date_ticks(fig: Figure) -> None:
    """Fix each date axis's ticks and labels as its locator and formatter choose them now.

    A tight PNG lays the figure out three times (a draw to measure, the bounding box, the
    draw), and a date locator works its ticks out afresh each time through ``dateutil``'s
    rules: fixed once, the eleven figures of a run take 8 % fewer instructions (callgrind),
    with the same bytes. The figure is complete by now, so its limits, and so the ticks,
    would not change between the three."""
    from matplotlib import dates as mdates
    from matplotlib.ticker import FixedFormatter, FixedLocator

    for ax in fig.axes:
        axis = ax.xaxis
        locator = axis.get_major_locator()
        if isinstance(locator, mdates.DateLocator):
            ticks = list(locator())
            labels = axis.get_major_formatter().format_ticks(ticks)
            axis.set_major_locator(FixedLocator(ticks))
            axis.set_major_formatter(FixedFormatter(labels))


def _fix_titles_in_place(fig: Figure) -> None:
    """Leave each axes' title where it is wherever matplotlib's search for a free place above
    the axes could not move it: no ticks or label at the top, no offset text (``1e6``) above
    the y axis, no twin or inset axes, the title's pad above its letters' descent.

    The search measures the y axis's tick labels for each title on every one of a tight
    PNG's layout passes: about a tenth of the CPU of a run's eleven figures, for a title
    that then stays at the top of its axes, with the same bytes (``_autotitlepos`` is the
    flag ``set_title(..., y=...)`` sets; where a matplotlib version lacks it nothing
    changes but the time)."""
    for ax in fig.axes:
        if not hasattr(ax, "_autotitlepos") or ax.child_axes or _aligned_or_twinned(ax):
            continue
        if ax.xaxis.get_ticks_position() not in ("bottom", "default") or (
            ax.xaxis.get_label_position() != "bottom"
        ):
            continue
        if not _padded_above_descent(ax):
            continue
        formatter = ax.yaxis.get_major_formatter()
        formatter.format_ticks(list(ax.yaxis.get_major_locator()()))
        if formatter.get_offset():
            continue
        ax._autotitlepos = False


def _padded_above_descent(ax: Any) -> bool:
    """Whether each of ``ax``'s titles sits on a baseline far enough above the axes for its
    letters' descent to clear them: 0.4 of its font size or more (a font's descent is about
    a quarter; the default 6-point pad under a 12-point title is 0.5). Closer, the search
    lifts it (a large title, or ``pad=0``)."""
    found = (ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None))
    titles = [title for title in found if title is not None]
    if len(titles) < len(found):
        return False
    pad = ax.titleOffsetTrans.get_matrix()[1, 2] * 72 / ax.get_figure(root=False).dpi
    return all(pad >= 0.4 * title.get_fontsize() for title in titles if title.get_text())


def _aligned_or_twinned(ax: Any) -> bool:
    """Whether ``ax`` has a twin or titles aligned with another's (the search then looks at
    those too); True where that cannot be told."""
    try:
        twins = ax._twinned_axes.get_siblings(ax)
        aligned = ax.get_figure(root=False)._align_label_groups["title"].get_siblings(ax)
    except (AttributeError, KeyError, TypeError):
        return True
    return len(twins) > 1 or len(aligned) > 1


def png_base64(fig: Any) -> str:
    """A figure as base64 PNG for a self-contained HTML page (the figure is closed)."""
    return base64.b64encode(png_bytes(fig)).decode("ascii")


@dataclass(frozen=True)
class FigureJob:
    """A figure still to be drawn: its name (the file ``figures/<name>.png``) and the function
    that makes it, with that function's arguments. Made in the process that draws it."""

    name: str
    make: Callable[..., Figure]
    args: tuple[Any, ...]

    def figure(self) -> Figure:
        return self.make(*self.args)

    def png(self) -> bytes:
        return png_bytes(self.figure())


@dataclass(frozen=True)
class FigureList:
    """A report's figures before they are listed: the function that lists them as
    :class:`FigureJob` s, named ``"module:function"`` rather than imported, and its
    arguments. A :class:`DrawingHost` lists and draws them, so that the command's own process
    need not import the plotting stack the makers need."""

    function: str
    args: tuple[Any, ...]

    def jobs(self) -> list[FigureJob]:
        module, name = self.function.split(":")
        return list(getattr(importlib.import_module(module), name)(*self.args))


Figures = Sequence[FigureJob] | FigureList
"""What :func:`start_drawing` draws: the jobs themselves, or the function that lists them."""


class Drawing:
    """Figures being drawn (:func:`start_drawing`): side by side in forked processes, or here
    when :meth:`result` is asked for. The command goes on meanwhile (writing its CSV files),
    so that what it does while they are drawn does not add to its time."""

    def __init__(self, jobs: Sequence[FigureJob], pool: ProcessPoolExecutor | None) -> None:
        self.jobs = tuple(jobs)
        self._pool = pool
        self._drawn: list[Future[bytes]] = (
            [pool.submit(_draw_inherited, i) for i in range(len(self.jobs))] if pool else []
        )

    def named(self) -> list[tuple[str, bytes]]:
        """Each job's name and its figure as PNG bytes, in the jobs' order."""
        return list(zip([job.name for job in self.jobs], self.result(), strict=True))

    def result(self) -> list[bytes]:
        """Each job's figure as PNG bytes, in the jobs' order (drawn here if not forked)."""
        if self._pool is None:
            return [job.png() for job in self.jobs]
        try:
            drawn = [future.result() for future in self._drawn]
        except BaseException:
            self.stop()
            raise
        self._pool.shutdown()
        return drawn

    def stop(self) -> None:
        """Stop the drawing processes (the figures are no longer wanted: an error, an
        interrupt)."""
        if self._pool is not None:
            from ..experiments.parallel import stop_pool

            stop_pool(self._pool)


def start_drawing(
    figures: Figures, workers: int | None = None, host: DrawingHost | None = None
) -> Drawing:
    """Start drawing each job's figure (:meth:`Drawing.result` gives the PNG bytes).

    Drawing is most of a short run's report (about 0.1 s a figure, a dozen figures a run):
    a :class:`FigureList` is drawn by ``host`` if one is given and free. Otherwise, with more
    than one worker (``None``: every core) and more than one figure, the figures are drawn
    side by side in processes forked from this one now, which inherit the jobs' data rather
    than being sent it. Where processes cannot be forked safely (not Linux, or other threads
    running) they are drawn one after another when the result is asked for. The bytes are the
    same either way."""
    if host is not None and isinstance(figures, FigureList):
        hosted = host.draw(figures, workers)
        if hosted is not None:
            return hosted
    from ..experiments.parallel import forking_parent, stop_pool, worker_count

    jobs = figures.jobs() if isinstance(figures, FigureList) else figures
    count = min(worker_count(workers), len(jobs))
    if count <= 1 or not _may_fork():
        return Drawing(jobs, None)
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(
        max_workers=count,
        mp_context=context,
        initializer=_inherit_jobs,
        initargs=(tuple(jobs), forking_parent(context)),  # inherited by the fork, not pickled
    )
    try:
        return Drawing(jobs, pool)
    except OSError:  # no process could be forked (EAGAIN, ENOMEM): drawn here instead
        stop_pool(pool)
        return Drawing(jobs, None)
    except BaseException:
        stop_pool(pool)
        raise


def _may_fork() -> bool:
    """Forking is safe only from a process running one thread (a thread holding a lock at the
    fork would leave it held in the child): a sweep's live worker pool, a Dask client or a
    notebook kernel run threads, and there the figures are drawn in turn."""
    return threading.active_count() == 1 and sys.platform.startswith("linux")


def draw_pngs(jobs: Figures, workers: int | None = None) -> list[bytes]:
    """Each job's figure as PNG bytes, in the jobs' order (:func:`start_drawing`, on
    ``workers``)."""
    return start_drawing(jobs, workers).result()


_inherited_jobs: tuple[FigureJob, ...] = ()
"""The jobs of :func:`draw_pngs`, set only in the processes it forks (never in the command's
own process): a job is then sent to a drawing process as its number."""


def _inherit_jobs(jobs: tuple[FigureJob, ...], parent: int | None) -> None:
    global _inherited_jobs
    from ..experiments.parallel import end_with_parent

    # SIGTERM ends a drawing process at once and SIGINT is the parent's, and it ends with its
    # parent, as a replication worker does (experiments.parallel)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        end_with_parent(parent)
    _inherited_jobs = jobs


def _draw_inherited(index: int) -> bytes:
    return _inherited_jobs[index].png()


def save_figures(
    folder: Path, jobs: Figures, workers: int | None = None, host: DrawingHost | None = None
) -> dict[str, str]:
    """Draw each figure (:func:`start_drawing`, on ``workers`` or by ``host``) and save it
    (:func:`save_drawing`)."""
    return save_drawing(folder, start_drawing(jobs, workers, host))


def save_drawing(folder: Path, drawing: Drawing) -> dict[str, str]:
    """Save each figure of ``drawing`` as ``folder/figures/<name>.png``; return them
    base64-encoded for embedding.

    Each figure is drawn once: the same PNG bytes are the file and the report's image (drawing
    it twice cost a second rendering per figure)."""
    figdir = folder / "figures"
    try:
        figdir.mkdir(exist_ok=True)
        drawn = drawing.named()
    except BaseException:  # the folder cannot be made: the drawing processes stop too
        drawing.stop()
        raise
    out = {}
    for name, data in drawn:
        (figdir / f"{name}.png").write_bytes(data)
        out[name] = base64.b64encode(data).decode("ascii")
    return out


# --- a process of its own for a command's figures -------------------------------------------

PLOTTING_STACK = ("sim.output.figures", "sim.output.comparison_figures")
"""What a :class:`DrawingHost` imports while the command starts: the figures' makers, with
matplotlib and pandas."""


HOST_CHECK_SECONDS = 0.2
"""How often a command waiting for its figures checks that the host is still there."""

CLOSE_SECONDS = 5.0
"""How long a closed host may take to stop its drawing processes before it is killed."""


class DrawingHost:
    """A process forked at a command's start that draws the command's figures.

    Before the first replication a command spends about 0.4 s importing on one core while the
    other idles; the host, forked once the command has pandas, imports the rest of the
    plotting stack (:data:`PLOTTING_STACK`: matplotlib, about 0.3 s) on that core. The
    command itself then never imports matplotlib: before, it did so in a thread while its
    workers simulated, on cores they needed (0.18 s longer replications in a `make run`,
    docs/performance.md, step 44). A report's figures are sent to the host as a
    :class:`FigureList`; it lists them and draws them as :func:`start_drawing` does, in
    processes forked from itself with the plotting stack already loaded, while the command
    writes its files. The same bytes as drawn anywhere else.

    One request at a time; while one is under way, or if the host has gone, the command draws
    its figures itself (:func:`start_drawing`). :meth:`close` ends the host and any drawing
    under way."""

    def __init__(self, process: BaseProcess, connection: Connection) -> None:
        self._process = process
        self._connection = connection
        self._busy = False
        self._gone = False

    @classmethod
    def start(cls, workers: int | None) -> DrawingHost | None:
        """A host, forked now; None where it would not help (one core or worker: the figures
        would compete with the command) or forking is not safe (not Linux, other threads)."""
        from ..experiments.parallel import forking_parent, worker_count

        if worker_count(workers) <= 1 or not _may_fork():
            return None
        context = multiprocessing.get_context("fork")
        try:
            ours, theirs = context.Pipe()
        except OSError:  # no descriptors left (EMFILE): the command draws its own figures
            return None
        parent = forking_parent(context)
        process = context.Process(
            target=_serve, args=(theirs, ours, PLOTTING_STACK, parent), name="caseflow drawing"
        )
        # not a daemon, which may not fork the drawing processes: ended by close(), or by
        # Linux when the command ends without closing it (end_with_parent; the command's end
        # of the pipe is then still held by its replication workers, until they end too)
        try:
            process.start()
        except OSError:  # no process could be forked: the command draws its own figures
            ours.close()
            theirs.close()
            return None
        theirs.close()
        return cls(process, ours)

    def draw(self, figures: FigureList, workers: int | None) -> Drawing | None:
        """``figures`` being drawn by the host (on ``workers`` processes forked from it); None
        if it is busy or gone, or they cannot be pickled. The request is sent whole before this
        returns: a large one (a 100 × 10-year run's monthly table) waits for a host still
        importing to read it."""
        if self._busy or self._gone:
            return None
        try:
            self._connection.send((figures, workers))
        except (OSError, ValueError):  # gone (a broken pipe) or the pipe closed
            self._gone = True
            return None
        except Exception:  # not picklable: nothing was sent, so the command draws these itself
            return None
        self._busy = True
        return HostedDrawing(self, figures, workers)

    def receive(self) -> list[tuple[str, bytes]] | None:
        """The figures of the request under way, named in order; None if the host failed to
        draw them or has gone."""
        try:
            # the host's end, not only the pipe: its drawing processes hold its end of the pipe
            # (and of its sentinel) too, and a host killed while they draw would leave the pipe
            # open, empty, for ever
            while not self._connection.poll(HOST_CHECK_SECONDS):
                if not self._process.is_alive():  # ended with nothing sent
                    self._gone = True
                    return None
            status, payload = self._connection.recv()
        except (EOFError, OSError):
            self._gone = True
            return None
        finally:
            self._busy = False
        return payload if status == "drawn" else None

    def close(self) -> None:
        """End the host (and the drawing processes it runs, if any)."""
        self._gone = True
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(CLOSE_SECONDS)
        if self._process.is_alive():  # stuck: ended without stopping its drawing processes
            self._process.kill()
        self._process.join()
        self._connection.close()


class HostedDrawing(Drawing):
    """Figures being drawn by a :class:`DrawingHost`. If the host fails (an error in a
    figure's maker, the host killed), they are drawn here instead, where an error is raised
    with its traceback."""

    def __init__(self, host: DrawingHost, figures: FigureList, workers: int | None) -> None:
        super().__init__((), None)
        self._host = host
        self._figures = figures
        self._workers = workers

    def named(self) -> list[tuple[str, bytes]]:
        drawn = self._host.receive()
        if drawn is None:
            return start_drawing(self._figures, self._workers).named()
        return drawn

    def result(self) -> list[bytes]:
        return [png for _, png in self.named()]

    def stop(self) -> None:
        self._host.close()


def _serve(
    connection: Connection, parents_end: Connection, preload: Sequence[str], parent: int | None
) -> None:
    """The host's life: import ``preload``, then draw each request until the command closes
    its end of the pipe, or ends (``parent``, as for a replication worker)."""
    from ..experiments.parallel import end_with_parent

    # SIGINT is the command's to act on (a terminal's Ctrl-C reaches the whole group); SIGTERM
    # (the command's close, or its end) ends the host, stopping its drawing processes first
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _end_host)
    if parent is not None:
        end_with_parent(parent)
    parents_end.close()  # so that the command's exit is seen here as the end of the pipe
    for module in preload:
        try:
            importlib.import_module(module)
        except Exception:  # the command draws its own figures and says what failed
            break
    while True:
        try:
            figures, workers = connection.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, Any] = ("drawn", start_drawing(figures, workers).named())
        except Exception:  # drawn again by the command, which raises it with its traceback
            reply = ("failed", None)
        try:
            connection.send(reply)
        except (OSError, ValueError):
            return


def _end_host(signum: int, frame: object) -> None:
    raise SystemExit(0)
