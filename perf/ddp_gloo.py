"""PyTorch DDP (gloo) on the same workloads as perf/DistributedPerf, for perf/ddp_compare.sh.

    python3 perf/ddp_gloo.py mlp [steps]         DDP mlp_train_step, batch 256 per rank, 1 thread per rank
    python3 perf/ddp_gloo.py allreduce [MB ...]  float32 all-reduce (sum) bandwidth
Starts 2 processes itself (torch.multiprocessing) on 127.0.0.1; rank 0 prints one line per measurement.
"""
import os, sys, time, statistics
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

WORLD = int(os.environ.get("NP", "2"))


def mlp(rank, steps):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 10))
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(256, 784)
    y = torch.randint(0, 10, (256,))
    times = []
    for i in range(steps + 5):
        dist.barrier()
        t0 = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(ddp(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss.item()
        dist.barrier()
        if i >= 5:
            times.append((time.perf_counter() - t0) * 1e3)
    if rank == 0:
        print(f"torch ddp mlp_train_step np={WORLD} threads/rank={torch.get_num_threads()} median_ms={statistics.median(times):.2f} min_ms={min(times):.2f}", flush=True)


def allreduce(rank, sizes):
    for mb in sizes:
        t = torch.ones(mb * 1024 * 1024 // 4)
        repeats = 5 if mb >= 64 else 20
        times = []
        for i in range(repeats + 2):
            dist.barrier()
            t0 = time.perf_counter()
            dist.all_reduce(t)
            if i >= 2:
                times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        if rank == 0:
            print(f"torch allreduce np={WORLD} MB={mb} median_ms={med * 1e3:.2f} GB/s={mb * 1024 * 1024 / med / 1e9:.2f}", flush=True)


def worker(rank, argv):
    torch.set_num_threads(int(os.environ.get("THREADS", "1")))
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ.setdefault("MASTER_PORT", "29517")
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    if argv[0] == "mlp":
        mlp(rank, int(argv[1]) if len(argv) > 1 else 30)
    else:
        allreduce(rank, [int(a) for a in argv[1:]] or [1, 4, 16, 64, 256])
    dist.destroy_process_group()


if __name__ == "__main__":
    mp.spawn(worker, args=(sys.argv[1:] or ["mlp"],), nprocs=WORLD)
