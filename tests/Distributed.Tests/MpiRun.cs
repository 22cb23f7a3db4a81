using System.Diagnostics;

namespace Ember.Tests.Distributed;

/// <summary>What one mpirun launch printed and how it ended.</summary>
public sealed record MpiResult(int ExitCode, string Output);

/// <summary>
/// Launches tests/Distributed.Worker under <c>mpirun --allow-run-as-root --oversubscribe -np N</c>, with a hard
/// timeout after which the whole process tree is killed and the test fails (a hang is a failure, never a wait).
/// </summary>
public static class MpiRun
{
    /// <summary>The worker's dll, in tests/Distributed.Worker/bin/&lt;configuration&gt;/&lt;tfm&gt;/ beside this project's output.</summary>
    public static string WorkerPath
    {
        get
        {
            var here = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
            var sep = Path.DirectorySeparatorChar;
            var candidate = here.Replace($"{sep}Distributed.Tests{sep}", $"{sep}Distributed.Worker{sep}");
            var path = Path.Combine(candidate, "Ember.Distributed.Worker.dll");
            if (!File.Exists(path))
                Assert.Fail($"The worker program was not built: {path} is missing (dotnet build tests/Distributed.Worker).");
            return path;
        }
    }

    /// <summary>mpirun from PATH; a missing Open MPI fails the test loudly (CI installs it).</summary>
    public static string MpirunPath
    {
        get
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(Path.PathSeparator))
            {
                var p = Path.Combine(dir, "mpirun");
                if (File.Exists(p)) return p;
            }
            Assert.Fail("mpirun was not found: the distributed tests need Open MPI (apt-get install -y openmpi-bin libopenmpi-dev).");
            return "";
        }
    }

    /// <summary>Runs <c>mpirun -np <paramref name="processes"/> dotnet worker <paramref name="suite"/></c> (the suite and its space-separated arguments) and returns its exit code and merged output.</summary>
    public static MpiResult Run(int processes, string suite, TimeSpan timeout, IDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(MpirunPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "-np", processes.ToString(), "dotnet", WorkerPath })
            psi.ArgumentList.Add(a);
        foreach (var a in suite.Split(' ')) psi.ArgumentList.Add(a);
        psi.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        psi.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["TERM"] = "dumb";   // no terminal escape codes from the .NET host in the captured output
        // Containers often forbid the cross-process reads (CMA, ptrace) of Open MPI's shared-memory single-copy
        // path, which then fails at the first large message; the copy-in/copy-out path works everywhere.
        psi.Environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none";
        psi.Environment.Remove(Ember.Distributed.DebugVariable);
        if (environment != null) foreach (var (k, v) in environment) psi.Environment[k] = v;
        using var process = Process.Start(psi)!;
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            lock (output) Assert.Fail($"mpirun -np {processes} {suite} did not finish within {timeout.TotalSeconds} s and was killed (a hang). Output:\n{output}");
        }
        process.WaitForExit();   // drains the redirected streams
        lock (output) return new MpiResult(process.ExitCode, output.ToString());
    }
}
