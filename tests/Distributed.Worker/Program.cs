using Ember;
using DistributedWorker;

// Usage: Ember.Distributed.Worker <suite> [device] (suites: collectives, ddp, device, fault-*); prints "CASE <name> OK" or "CASE <name> FAIL <message>" per case and
// "SUMMARY rank <r> passed <p> failed <f>"; exits 0 only when every case passed. Fault suites end in an exception
// on purpose: the job must abort with a non-zero exit on every rank.
string suite = args.Length > 0 ? args[0] : throw new ArgumentException("usage: Ember.Distributed.Worker <suite>");
var world = Distributed.InitProcessGroup(suite == "device" ? "auto" : "mpi");
var runner = new CaseRunner(world.Rank, world.Size);
switch (suite)
{
    case "collectives": CollectiveCases.Run(runner, world); break;
    case "ddp": DdpCases.Run(runner, world); break;
    case "device": DeviceCases.Run(runner, world, args.Length > 1 ? args[1] : "cuda"); break;   // "device cuda": GPU machine only
    case "fault-shapes": FaultCases.MismatchedParameterShapes(world); break;
    case "fault-debug": FaultCases.MismatchedCollectiveInDebugMode(world); break;
    case "fault-throw": FaultCases.RankThrows(world); break;
    default: throw new ArgumentException($"unknown suite {suite}");
}
Console.WriteLine($"SUMMARY rank {world.Rank} passed {runner.Passed} failed {runner.Failed}");
Console.Out.Flush();
Distributed.DestroyProcessGroup();
return runner.Failed == 0 ? 0 : 3;
