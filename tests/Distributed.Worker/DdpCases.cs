using Ember;
namespace DistributedWorker;
public static class DdpCases { public static void Run(CaseRunner run, ProcessGroup g) { } }
