#!/usr/bin/env python3
"""Aggregates a dotnet-trace speedscope file into inclusive/self percentages per frame.
  python3 perf/speedscope_top.py trace.speedscope.json [frame-filter, default Ember] [rows]
Only samples whose stack contains the filter string count (e.g. TrainStepWorkload.Step for the timed steps)."""
import json,sys,collections
d=json.load(open(sys.argv[1]))
frames=[f['name'] for f in d['shared']['frames']]
incl=collections.Counter(); selfc=collections.Counter(); total=0
filt = sys.argv[2] if len(sys.argv)>2 else 'Ember'
for p in d['profiles']:
    if p['type']=='evented':
        # convert evented to samples weighted by time
        stack=[]; last=None
        for ev in p['events']:
            t=ev['at']
            if last is not None and stack:
                names=[frames[i] for i in stack]
                if any(filt in n for n in names) and not any(('Wait' in n and 'Monitor' in n) or 'WaitHandle' in n or 'SpinWait' in n or 'LowLevelLifoSemaphore' in n for n in names):
                    w=t-last; total+=w
                    for n in set(names): incl[n]+=w
                    selfc[names[-1]]+=w
            if ev['type']=='O': stack.append(ev['frame'])
            else: stack.pop()
            last=t
    else:
        for s,w in zip(p['samples'],p['weights']):
            names=[frames[i] for i in s]
            if not any(filt in n for n in names): continue
            total+=w
            for n in set(names): incl[n]+=w
            selfc[names[-1]]+=w
print('total',total)
def short(n): return n[:150]
print('--- inclusive')
for n,w in incl.most_common(int(sys.argv[3]) if len(sys.argv)>3 else 60): print(f'{100*w/total:6.1f}% {short(n)}')
print('--- self')
for n,w in selfc.most_common(30): print(f'{100*w/total:6.1f}% {short(n)}')
