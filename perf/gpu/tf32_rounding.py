"""How cuBLAS (through PyTorch, allow_tf32) turns float32 operands into TF32 on this GPU: round to nearest (ties
away or even) or truncation. Each probe multiplies diag(x) by the identity (and the identity by diag(x)) at n x n, so
C's diagonal is x as the tensor core saw it.

    python3 perf/gpu/tf32_rounding.py [--sizes 256,4096]
"""
import argparse
import torch

ULP = 2.0 ** -10  # TF32 keeps 10 mantissa bits
PROBES = {
    "1 + 0.75 ulp": 1 + 0.75 * ULP,      # nearest: 1 + ulp; truncation: 1
    "1 + 0.5 ulp (tie)": 1 + 0.5 * ULP,  # ties away: 1 + ulp; ties to even and truncation: 1
    "1 + 1.5 ulp (tie)": 1 + 1.5 * ULP,  # ties away and to even: 1 + 2 ulp; truncation: 1 + ulp
    "-(1 + 0.75 ulp)": -(1 + 0.75 * ULP),
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="256,4096")
    args = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = True
    print("torch", torch.__version__, torch.cuda.get_device_name(0))
    for n in [int(s) for s in args.sizes.split(",")]:
        eye = torch.eye(n, device="cuda")
        for name, x in PROBES.items():
            d = torch.eye(n, device="cuda") * x
            left = torch.mm(d, eye).diagonal()[0].item()
            right = torch.mm(eye, d).diagonal()[0].item()
            def kind(v):
                q = (abs(v) - 1) / ULP
                return f"{v:.10f} (1 + {q:g} ulp)"
            print(f"n={n} {name}: x={x:.10f}  diag(x)@I={kind(left)}  I@diag(x)={kind(right)}")


if __name__ == "__main__":
    main()
