def asm(shape, types, extra, wait):
    lines = []
    lines.append("{ .reg .f32 wf<64>; .reg .b64 wda, wdb; .reg .pred wp; ")
    lines.append("".join(f"mov.b64 {{wf{2*i}, wf{2*i+1}}}, %{i}; " for i in range(32)))
    lines.append("setp.ne.b32 wp, %35, 0; mov.b64 wda, {%32, %34}; mov.b64 wdb, {%33, %34}; wgmma.fence.sync.aligned; ")
    regs = ", ".join(f"wf{i}" for i in range(64))
    for k in range(4):
        if k: lines.append("add.s64 wda, wda, 2; add.s64 wdb, wdb, 2; ")
        lines.append(f"wgmma.mma_async.sync.aligned.{shape}.f32.{types}.{types} {{{regs}}}, wda, wdb, wp, 1, 1{extra}; ")
    lines.append("wgmma.commit_group.sync.aligned; ")
    if wait: lines.append("wgmma.wait_group.sync.aligned 0; ")
    lines.append("".join(f"mov.b64 %{i}, {{wf{2*i}, wf{2*i+1}}}; " for i in range(32)))
    lines.append("}")
    return lines
import sys
out=[]
for name, shape, t, extra in [("Tf32","m64n128k8","tf32",""),("F16","m64n128k16","f16",", 0, 0"),("Bf16","m64n128k16","bf16",", 0, 0")]:
    for wait in (True, False):
        suffix = "" if wait else "NoWait"
        ls = asm(shape, t, extra, wait)
        out.append(f"    internal const string {name}{suffix} =")
        for i,l in enumerate(ls):
            out.append(f"        \"{l}\"" + (" +" if i < len(ls)-1 else ";"))
        out.append("")
open("asm.cs","w").write("\n".join(out))
