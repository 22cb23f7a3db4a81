using Ember;
namespace DistributedWorker;
public static class FaultCases {
 public static void MismatchedParameterShapes(ProcessGroup g) { }
 public static void MismatchedCollectiveInDebugMode(ProcessGroup g) { }
 public static void RankThrows(ProcessGroup g) { }
}
