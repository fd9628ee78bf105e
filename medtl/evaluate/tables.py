"""Fixed-width text tables of a CV summary and of a run comparison, as printed by `medtl cv` and `medtl compare`."""
from __future__ import annotations


def format_summary(summary: dict) -> str:
    """A fixed-width table of a `summarize_cv` result (what `medtl cv` prints at the end).

    Example:
        >>> import pandas as pd
        >>> from medtl.evaluate.summary import summarize_cv
        >>> pred = pd.DataFrame({"case_id": list("abcd"), "patient_id": list("wxyz"), "fold": [0, 0, 1, 1],
        ...     "label": ["ok", "ill", "ok", "ill"], "y_true": [0, 1, 0, 1],
        ...     "p_ok": [.8, .3, .6, .2], "p_ill": [.2, .7, .4, .8]})
        >>> print(format_summary(summarize_cv(pred, ["ok", "ill"], n_boot=20)).splitlines()[0])
        Cross-validation, 2 folds, binary (ok / ill), positive class 'ill'
    """
    counts = summary["counts"]
    kind = f"positive class {summary['positive']!r}" if summary["positive"] else "macro one-vs-rest AUC"
    lines = [f"Cross-validation, {counts['folds']} folds, {summary['task']} ({' / '.join(summary['classes'])}), "
             f"{kind}",
             f"  {counts['cases']} cases ({_per_class(counts['cases_per_class'])}); {counts['patients']} patients "
             f"({_per_class(counts['patients_per_class'])}); patient score = {summary['aggregate']} of its images"]
    sections = [_fold_lines(summary), _pooled_lines(summary), _operating_lines(summary["operating_points"]),
                _confusion_lines(summary["confusion"])]
    for section in sections:
        lines += [""] + section if section else []
    return "\n".join(lines)


def format_comparison(result: dict) -> str:
    """A fixed-width table of a `compare_runs` result: both AUCs with CIs, the difference, DeLong's p-value.

    Example:
        >>> from medtl.evaluate.compare import compare_runs
        >>> print(format_comparison(compare_runs("runs/a", "runs/b")))  # doctest: +SKIP
    """
    ci = f"{result['ci_level']:.0%} CI"
    lines = [f"Paired comparison, patient level ({result['n_patients']} patients, {result['n_cases']} cases; "
             f"patient score = {result['aggregate']} of its images)",
             f"  A = {result['run_a']}", f"  B = {result['run_b']}", "",
             f"  {'':<6}  {'AUC':>7}  {ci + ' DeLong':>18}  {ci + ' bootstrap':>18}  {'DeLong p':>9}"]
    for key in ("a", "b"):
        entry = result[key]
        lines.append(f"  {key.upper():<6}  {format_number(entry['auc']):>7}  {format_ci(entry['delong_ci']):>18}  "
                     f"{format_ci(entry['bootstrap_ci']):>18}")
    diff = result["difference"]
    p_value = "n/a" if diff["p_value"] is None else f"{diff['p_value']:.4f}"
    lines.append(f"  {'A - B':<6}  {format_number(diff['auc'], signed=True):>7}  {format_ci(diff['delong_ci']):>18}  "
                 f"{format_ci(diff['bootstrap_ci']):>18}  {p_value:>9}")
    return "\n".join(lines)


def format_number(value: float | None, signed: bool = False) -> str:
    """A metric with three decimals ("n/a" for None), optionally with its sign.

    Example:
        >>> format_number(0.91234), format_number(-0.05, signed=True), format_number(None)
        ('0.912', '-0.050', 'n/a')
    """
    if value is None:
        return "n/a"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def format_ci(ci: list[float | None] | None) -> str:
    """A confidence interval as "[lo, hi]" with three decimals ("n/a" when undefined).

    Example:
        >>> format_ci([0.81, 0.9])
        '[0.810, 0.900]'
    """
    return "n/a" if ci is None or None in ci else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def _mean_sd(spread: dict) -> str:
    if spread["mean"] is None:
        return "n/a"
    return f"{spread['mean']:.3f} +- {spread['sd']:.3f}" if spread["sd"] is not None else f"{spread['mean']:.3f}"


def _per_class(counts: dict[str, int]) -> str:
    return ", ".join(f"{c} {n}" for c, n in counts.items())


def _fold_lines(summary: dict) -> list[str]:
    lines = [f"  {'fold':>10}  {'patients':>8}  {'cases':>6}  {'AUC patient':>14}  {'AUC image':>14}"]
    for fold in summary["folds"]:
        lines.append(f"  {fold['fold']:>10}  {fold['n_patients']:>8}  {fold['n_cases']:>6}  "
                     f"{format_number(fold['auc_patient']):>14}  {format_number(fold['auc_image']):>14}")
    spread = summary["auc_over_folds"]
    lines.append(f"  {'mean +- sd':>10}  {'':>8}  {'':>6}  {_mean_sd(spread['patient']):>14}  "
                 f"{_mean_sd(spread['image']):>14}")
    return lines


def _pooled_lines(summary: dict) -> list[str]:
    ci = f"{summary['ci_level']:.0%} CI"
    lines = [f"  {'pooled out-of-fold':<20}  {'n':>6}  {'AUC':>6}  {ci + ' DeLong':>18}  {ci + ' bootstrap':>18}"]
    for level in ("patient", "image"):
        entry = summary["pooled"][level]
        lines.append(f"  {level + ' level':<20}  {entry['n']:>6}  {format_number(entry['auc']):>6}  "
                     f"{format_ci(entry['delong_ci']):>18}  {format_ci(entry['bootstrap_ci']):>18}")
    brier = summary["brier"]
    lines.append(f"  (bootstrap resamples patients; Brier patient {format_number(brier['patient'])}, "
                 f"image {format_number(brier['image'])})")
    return lines


def _operating_lines(points: dict | None) -> list[str]:
    if not points:
        return []
    target = points["at_specificity"]["target_specificity"]
    lines = [f"  {'patient-level operating point':<32}  {'threshold':>9}  {'sensitivity':>11}  {'specificity':>11}"]
    for name, point in (("Youden", points["youden"]), (f"specificity >= {target:.2f}", points["at_specificity"])):
        lines.append(f"  {name:<32}  {format_number(point['threshold']):>9}  "
                     f"{format_number(point['sensitivity']):>11}  {format_number(point['specificity']):>11}")
    return lines


def _confusion_lines(confusion: dict) -> list[str]:
    width = max(len(c) for c in confusion["labels"]) + 2
    header = "  " + " " * width + "".join(f"{c:>{width}}" for c in confusion["labels"])
    rows = ["  " + f"{c:<{width}}" + "".join(f"{n:>{width}}" for n in row)
            for c, row in zip(confusion["labels"], confusion["matrix"])]
    return [f"  confusion ({confusion['rule']}; rows = truth, columns = call)", header, *rows]
