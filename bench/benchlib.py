"""benchlib.py - helpers shared by bench/torch_ops.py and
bench/torch_train.py: reading the JSON lines the C benchmarks print,
number formatting and the table scripts' argument parsing."""
import json


def read_jsonl(path):
    """The JSON objects of a file, one per line (other lines ignored)."""
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                out.append(json.loads(line))
    return out


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def table_args(args):
    """[--cpu NAME] LETHE.jsonl [TORCH.jsonl] -> (cpu, lethe rows, torch rows,
    lethe info, torch info)."""
    cpu, paths = None, []
    it = iter(args)
    for a in it:
        if a == "--cpu":
            cpu = next(it)
        else:
            paths.append(a)
    lethe = read_jsonl(paths[0])
    tor = read_jsonl(paths[1]) if len(paths) > 1 else []
    info = next((d for d in lethe if d.get("type") == "info"), {})
    tinfo = next((d for d in tor if d.get("type") == "info"), None)
    return cpu, lethe, tor, info, tinfo
