#!/usr/bin/env python3
"""Independent reference for celltrace-outcomes' registry statistics.

Reads a JSON cohort on stdin:
  {"time_points": ["m1", ...],
   "mcid": {"value": 2.0, "direction": "lower_is_better" | "higher_is_better"},
   "patients": [{"patient", "group": {"indication", "product_type", "site"},
                 "baseline": float|null, "follow_ups": {tp: float|null},
                 "treated_at_day": int, "adverse_events": [{"day", "grade"}],
                 "last_contact_day": int}, ...]}
and prints, per group and pooled (group null), the same statistics computed
with scipy (t intervals), statsmodels (Wilson intervals) and numpy
(Kaplan-Meier, Greenwood variance, log-log 95 % intervals).

Requires: pip install scipy statsmodels numpy
"""
import json
import math
import sys

try:
    import numpy as np
    from scipy import stats as sps
    from statsmodels.stats.proportion import proportion_confint
except ImportError as exc:  # the Rust test turns this into a failure
    sys.stderr.write(f"missing Python package ({exc}); run: pip install scipy statsmodels numpy\n")
    sys.exit(3)

Z = sps.norm.ppf(0.975)


def finite(v):
    return v is not None and math.isfinite(v)


def t_interval(values):
    n = len(values)
    if n < 2:
        return None
    a = np.asarray(values, dtype=float)
    mean = float(np.mean(a))
    sd = float(np.std(a, ddof=1))
    lo, hi = sps.t.interval(0.95, df=n - 1, loc=mean, scale=sps.sem(a))
    return {"n": n, "mean": mean, "sd": sd, "lower": float(lo), "upper": float(hi)}


def wilson(k, n):
    if n == 0:
        return None
    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    return {"k": k, "n": n, "estimate": k / n, "lower": float(lo), "upper": float(hi)}


def km(times, events):
    t = np.asarray(times, dtype=np.int64)
    e = np.asarray(events, dtype=bool)
    order = np.argsort(t, kind="stable")
    t, e = t[order], e[order]
    event_times = np.unique(t[e])
    steps = []
    s = 1.0
    gw = 0.0
    for u in event_times:
        n_risk = int(np.sum(t >= u))
        d = int(np.sum((t == u) & e))
        c = int(np.sum((t == u) & ~e))
        s *= 1.0 - d / n_risk
        if d < n_risk:
            gw += d / (n_risk * (n_risk - d))
            se = s * math.sqrt(gw)
            # log-log interval, as R survfit(conf.type = "log-log")
            w = Z * math.sqrt(gw) / abs(math.log(s))
            lower, upper = s ** math.exp(w), s ** math.exp(-w)
        else:
            s, se, lower, upper = 0.0, None, None, None
        steps.append({"time": int(u), "n_at_risk": n_risk, "n_events": d, "n_censored": c,
                      "survival": s, "std_err": se, "lower": lower, "upper": upper})
    return {"n": int(len(t)), "n_events": int(e.sum()), "steps": steps}


def group_stats(group, patients, time_points, mcid):
    n = len(patients)
    better_up = mcid["direction"] == "higher_is_better"
    tps = []
    for tp in time_points:
        followed = 0
        changes = []
        responders = 0
        for p in patients:
            f = p["follow_ups"].get(tp)
            if not finite(f):
                continue
            followed += 1
            b = p["baseline"]
            if finite(b):
                changes.append(f - b)
                improvement = (f - b) if better_up else (b - f)
                if improvement >= mcid["value"]:
                    responders += 1
        tps.append({"time_point": tp, "n_treated": n, "n_followed": followed,
                    "n_missing": n - followed, "n_evaluable": len(changes),
                    "change": t_interval(changes), "responders": wilson(responders, len(changes))})
    by_grade, worst_grade = {}, {}
    n_events = with_event = 0
    times, events = [], []
    for p in patients:
        aes = [a for a in p["adverse_events"] if a["day"] >= p["treated_at_day"]]
        n_events += len(aes)
        for a in aes:
            by_grade[a["grade"]] = by_grade.get(a["grade"], 0) + 1
        if aes:
            with_event += 1
            w = max(a["grade"] for a in aes)
            worst_grade[w] = worst_grade.get(w, 0) + 1
            times.append(min(a["day"] for a in aes) - p["treated_at_day"])
            events.append(True)
        elif p["last_contact_day"] >= p["treated_at_day"]:
            times.append(p["last_contact_day"] - p["treated_at_day"])
            events.append(False)
    return {
        "group": group,
        "n_treated": n,
        "time_points": tps,
        "adverse_events": {
            "n_events": n_events,
            "events_per_patient": n_events / n if n else None,
            "patients_with_event": wilson(with_event, n),
            "events_by_grade": {str(k): v for k, v in sorted(by_grade.items())},
            "patients_by_worst_grade": {str(k): v for k, v in sorted(worst_grade.items())},
        },
        "time_to_first_ae": km(times, events),
    }


def main():
    cohort = json.load(sys.stdin)
    tps, mcid, patients = cohort["time_points"], cohort["mcid"], cohort["patients"]
    groups = {}
    for p in patients:
        g = p["group"]
        groups.setdefault((g["indication"], g["product_type"], g["site"]), []).append(p)
    out = {"groups": [], "pooled": group_stats(None, patients, tps, mcid)}
    for key in sorted(groups):
        g = {"indication": key[0], "product_type": key[1], "site": key[2]}
        out["groups"].append(group_stats(g, groups[key], tps, mcid))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
