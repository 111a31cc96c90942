"""The rules of a check evaluated on a dask.distributed cluster, one task per county.

:func:`evaluate_on_cluster` is what :func:`analysis.run.check_project` calls
instead of :func:`analysis.engine.evaluate` when a :class:`Cluster` is given.
The client has loaded the project — but for the layers too large for it,
which it surveyed (:func:`layers.loader.survey_layer`) — and prepared the
raster zones; it decides on whole layers what a task must not decide on its
part (which rules are skipped, each layer's CRS and repeated ids), cuts the
project into partitions
(:mod:`analysis.partition`) and sends one task per partition
(:func:`analysis.partition_eval.evaluate_part`). Each task reads its box of
every layer itself, so the workers must see the project's sources at the
same paths (a shared folder) or in the same PostGIS database. Of a surveyed
layer each task returns the features it owns, which the client appends to
the layer's store as the results arrive (:mod:`layers.parts_store`), then
lets the workers drop them.

A task whose worker dies is run again by dask on another worker (the
scheduler's ``distributed.scheduler.allowed-failures``); one that fails
(a source a worker cannot read) stops the run with one line naming the
source and the county, before any output is written.
"""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from importlib.util import find_spec
from urllib.parse import urlsplit

import pandas as pd

from geoplan.analysis.engine import Evaluation, evaluate
from geoplan.analysis.land_classes import land_class_source
from geoplan.analysis.partition import (
    UNIT_KINDS,
    Partition,
    cells_of,
    halo_m,
    needed_by,
    plan_partitions,
)
from geoplan.analysis.partition_eval import PartInputs, PartResult, combine, evaluate_part
from geoplan.analysis.prepare import Prepared
from geoplan.analysis.relations import registry
from geoplan.analysis.rules import Rule, RuleError
from geoplan.analysis.selection import RuleSkipped, select
from geoplan.geo.errors import GeoplanError
from geoplan.layers.loader import LoadedProject
from geoplan.layers.parts_store import append_features, refuse_unowned

logger = logging.getLogger(__name__)

#: Features above which the client surveys a layer rather than loading it (:class:`Cluster`).
SURVEY_ABOVE = 200_000

#: Seconds to wait for a scheduler given by address (``--scheduler``).
CONNECT_TIMEOUT_S = 30


class ClusterError(GeoplanError):
    """The cluster cannot be started or reached, or a task of the check failed on it."""


@dataclass(frozen=True)
class Cluster:
    """Where a check's rules are evaluated: a local cluster of processes or a running one.

    Attributes
    ----------
    workers : int, optional
        Start a local cluster of this many worker processes (one thread each).
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``) to use instead.
    survey_above : int
        A layer file of more features than this is not loaded by the client
        but surveyed (:func:`layers.loader.survey_layer`): the partitions
        read its features and hand back those they own.
    """

    workers: int | None = None
    scheduler: str | None = None
    survey_above: int = SURVEY_ABOVE

    def __post_init__(self) -> None:
        if self.workers is not None and self.scheduler is not None:
            raise ClusterError("give either a number of workers or a scheduler address, not both")
        if self.workers is not None and self.workers < 1:
            raise ClusterError(f"workers must be at least 1, not {self.workers}")
        if self.workers is None and self.scheduler is None:
            raise ClusterError("a cluster needs a number of workers or a scheduler address")


def require_cluster(cluster: Cluster, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Fail now, before the layers are loaded, if the cluster's scheduler cannot be reached.

    A ``tcp://HOST:PORT`` scheduler is reached with a plain TCP connection;
    other schemes (``tls://`` …) are left to the client, after the load.

    Raises
    ------
    ClusterError
        dask.distributed is not installed, or nothing answers at a tcp://
        scheduler address within ``timeout_s`` seconds.
    """
    if find_spec("distributed") is None:
        raise ClusterError(
            "a check on a cluster needs dask.distributed: pip install 'geoplan[cluster]'"
        )
    if cluster.scheduler is None or not cluster.scheduler.startswith("tcp://"):
        return
    where = urlsplit(cluster.scheduler)
    try:
        with socket.create_connection((where.hostname, where.port or 8786), timeout=timeout_s):
            pass
    except (OSError, ValueError) as exc:
        raise ClusterError(f"cannot reach the dask scheduler {cluster.scheduler}: {exc}") from None


@contextmanager
def open_client(cluster: Cluster, say: Callable[[str], None]) -> Iterator[object]:
    """A dask ``Client`` of the cluster; a local cluster is closed again on leaving.

    Raises
    ------
    ClusterError
        dask.distributed is not installed, or the scheduler cannot be reached.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClusterError(
            "a check on a cluster needs dask.distributed: pip install 'geoplan[cluster]'"
        ) from None
    if cluster.scheduler is not None:
        try:
            client = Client(cluster.scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"cannot reach the dask scheduler {cluster.scheduler}: {exc}"
            ) from None
        with client:
            workers = len(client.scheduler_info(n_workers=-1).get("workers", {}))
            say(f"dask 集群 {cluster.scheduler}：{workers} 个工作进程")
            yield client
        return
    local = LocalCluster(
        n_workers=cluster.workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.CRITICAL,  # not the heartbeat errors of workers closing with it
    )
    with local, Client(local) as client:
        # the scheduler serves its dashboard only where bokeh is installed
        board = local.dashboard_link if find_spec("bokeh") else "未启用（未安装 bokeh）"
        say(f"dask 本地集群：{cluster.workers} 个工作进程，仪表板 {board}")
        yield client


def whole_project_skips(
    loaded: LoadedProject, rules: list[Rule], prepared: Prepared
) -> dict[str, RuleSkipped]:
    """The rules the engine would skip on the whole project, by id, with the engine's reason.

    Sides are selected in the engine's order (left, right, layers, region),
    then the prepared input is asked for, as
    :func:`analysis.engine.breaches_of` does.
    """
    skipped, seen = {}, {}
    for rule in rules:
        try:
            for side in (rule.left, rule.right, *rule.layers, rule.region):
                if side is not None and side.describe() not in seen:
                    seen[side.describe()] = select(loaded, side)
            if registry()[rule.relation].prepare is not None:
                prepared.of(rule)
        except RuleSkipped as exc:
            skipped[rule.id] = exc
    return skipped


def _failure(part: Partition, n: int, exc: Exception) -> ClusterError | None:
    """One line for a partition's failure; None for an error of geoplan's own (shown whole)."""
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    where = f"{part.label}（分区 {part.index + 1}/{n}）"
    if isinstance(exc, KilledWorker):
        return ClusterError(
            f"{where}: the dask workers running it died too often ({exc}); no output was written"
        )
    if isinstance(exc, GeoplanError):
        return ClusterError(f"{where}: {exc}")
    if isinstance(exc, (OSError, FutureCancelledError)):  # the scheduler went away
        return ClusterError(f"{where}: lost the dask cluster ({type(exc).__name__}: {exc})")
    return None


def _given(inputs: PartInputs) -> PartInputs:
    return inputs


def _kept(loaded: LoadedProject, result: PartResult) -> PartResult:
    """A partition's result with its surveyed features moved into their layers' stores."""
    for kind, frame in result.stored.items():
        append_features(loaded.layers[kind], frame, result.repairs[kind])
    return replace(result, stored={}, repairs={})


def _run(
    client,
    inputs: PartInputs,
    parts: list[Partition],
    say: Callable[[str], None],
    keep: Callable[[PartResult], PartResult],
) -> list[PartResult]:
    from distributed import as_completed

    start = time.perf_counter()
    run = uuid.uuid4().hex  # keys of this run only: a shared scheduler may hold other runs
    # a task, not scattered data: a worker dying with it makes the scheduler compute it again
    shared = client.submit(_given, inputs, key=f"geoplan-inputs-{run}", pure=False)
    futures = client.map(
        evaluate_part,
        [shared] * len(parts),
        parts,
        key=[f"geoplan-part-{p.index}-{run}" for p in parts],
    )
    by_key = {f.key: p for f, p in zip(futures, parts, strict=True)}
    pending = {f.key: f for f in futures}
    results = []
    try:
        for done, future in enumerate(as_completed(futures), start=1):
            part = by_key[future.key]
            try:
                results.append(keep(future.result()))
            except Exception as exc:  # raised on the worker, or KilledWorker
                failure = _failure(part, len(parts), exc)
                if failure is None:
                    raise
                raise failure from None
            # the worker may drop its copy now: a county's features are held once, here
            pending.pop(future.key).release()
            elapsed = time.perf_counter() - start
            say(f"{part.label} 完成 {done}/{len(parts)}（已用 {elapsed:.0f} 秒）")
    finally:
        client.cancel([*pending.values(), shared])
    return results


def evaluate_on_cluster(
    loaded: LoadedProject,
    rules: list[Rule],
    cluster: Cluster,
    *,
    strict: bool = False,
    prepared: Prepared | None = None,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    """Evaluate rules partition by partition on a dask cluster; the engine's result.

    Parameters
    ----------
    loaded : LoadedProject
        The whole project.
    rules : list of Rule
    cluster : Cluster
    strict : bool, default False
        A rule that needs a missing layer or field is an error (as in
        :func:`analysis.engine.evaluate`).
    prepared : Prepared, optional
        The raster zones, prepared on the whole project.
    progress : callable, optional
        Called with a message (Chinese) when the cluster is up and when each
        partition is done.

    Returns
    -------
    Evaluation
        Equal to :func:`analysis.engine.evaluate`'s on the same project: the
        same rows in the same order, ids and areas.

    Raises
    ------
    ClusterError
        The cluster cannot be used, or a partition failed (named, with the
        source it could not read).
    RuleError
        In strict mode, a rule that cannot be evaluated.
    """
    say = progress or (lambda message: None)
    prepared = prepared or Prepared()
    skipped = whole_project_skips(loaded, rules, prepared)
    evaluated = [rule for rule in rules if rule.id not in skipped]
    parts = plan_partitions(loaded, evaluated, everywhere=_everywhere(loaded))
    if not parts:  # no feature to own: nothing a cluster could share out
        return evaluate(loaded, rules, strict=strict, prepared=prepared)
    for rule_id, exc in skipped.items():
        if strict:
            raise RuleError(f"rule {rule_id}: {exc}")
        logger.warning("rule %s skipped: %s", rule_id, exc)
    surveyed = tuple(k for k, layer in loaded.layers.items() if layer.parts is not None)
    source = land_class_source(loaded)
    inputs = PartInputs(
        project=loaded.project,
        crs=loaded.crs,
        decisions={kind: layer.decision for kind, layer in loaded.layers.items()},
        rules=evaluated,
        prepared={
            rule.id: prepared.inputs[rule.id].frame
            for rule in evaluated
            if rule.id in prepared.inputs
        },
        surveyed=surveyed,
        cells=cells_of(loaded)[1] if surveyed else None,
        needed=needed_by(evaluated, _everywhere(loaded)),
        halo=halo_m(evaluated),
        land_source=source if source in surveyed else None,
    )
    with open_client(cluster, say) as client:
        results = _run(client, inputs, parts, say, lambda result: _kept(loaded, result))
    for kind in surveyed:
        refuse_unowned(loaded.layers[kind])
    evaluation = combine(rules, results, skipped, loaded.crs)
    if inputs.land_source is not None:
        pieces = [r.land_pieces for r in results if r.land_pieces is not None]
        evaluation.land_pieces = pd.concat(pieces, ignore_index=True) if pieces else None
    return evaluation


def _everywhere(loaded: LoadedProject) -> tuple[str, ...]:
    """The kinds read around every owned feature: the units, and the land-class source."""
    source = land_class_source(loaded)
    return (*UNIT_KINDS, source) if source is not None else UNIT_KINDS
