"""dm_accept_seeds.py - mean +- std over the three sampling seeds of the
cond:s v1 acceptance reports in this folder (printed as Markdown)."""
import json, statistics as st
import os
H = os.path.dirname(os.path.abspath(__file__))
fs = [os.path.join(H, f) for f in ('dm-cond-s-v1-accept.json', 'dm-cond-s-v1-accept-seed1235.json', 'dm-cond-s-v1-accept-seed1236.json')]
ds = [json.load(open(f)) for f in fs]
def ms(v): return f"{st.mean(v):.2f} ± {st.stdev(v):.2f}"
print("| class | acc. samples (%) | ratio to real | p(class) | FD to real (floor) | pass (3 seeds) |")
print("|---|---|---|---|---|---|")
for i in range(10):
    rows = [d['tables'][0]['rows'][i] for d in ds]
    print(f"| {i} | {ms([r['acc_samples'] for r in rows])} | {ms([r['acc_ratio'] for r in rows])} | {ms([r['target_prob'] for r in rows])} | {ms([r['fd'] for r in rows])} ({rows[0]['fd_floor']:.2f}) | {'/'.join(r['pass'] for r in rows)} |")
print()
for j in range(5):
    rows = [d['tables'][1]['rows'][j] for d in ds]
    ref = rows[0]['reference']
    print(f"| {rows[0]['check']} | {ms([r['value'] for r in rows])} | {ref if ref is None else round(ref,3)} | {'/'.join(r['pass'] for r in rows)} |")
print([d['settings']['accepted'] for d in ds])
