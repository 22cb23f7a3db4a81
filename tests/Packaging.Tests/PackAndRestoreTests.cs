using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Ember.Packaging.Tests;

/// <summary>
/// Packs every project under src/ into a temporary folder, then restores the packages from that folder (plus the NuGet
/// global-packages folder and the configured sources for third-party dependencies) into a fresh console project outside the
/// repository, which trains a small model. No project references: what a user of the published packages gets.
/// </summary>
public class PackAndRestoreTests
{
    private const string ConsumerProgram = """
        using Ember;
        using Ember.Data;
        using Ember.NN;
        using Ember.Optim;

        Tensor.ManualSeed(0);
        var iris = Datasets.Iris();
        var loader = new DataLoader(iris, batchSize: 16, shuffle: true);
        var model = new Sequential(new Linear(4, 16), new ReLU(), new Linear(16, 3));
        var opt = new Adam(model.Parameters(), lr: 0.02);
        double first = 0, last = 0;
        for (int epoch = 0; epoch < 40; epoch++)
        {
            double sum = 0; int n = 0;
            foreach (var (x, y) in loader)
            {
                var loss = Functional.CrossEntropy(model.Forward(x), y);
                opt.ZeroGrad(); loss.Backward(); opt.Step();
                sum += loss.Item<float>(); n++;
            }
            if (epoch == 0) first = sum / n;
            last = sum / n;
        }
        Console.WriteLine(FormattableString.Invariant($"loss {first:F4} -> {last:F4}"));
        """;

    private string work = "";

    [SetUp]
    public void SetUp()
    {
        work = Path.Combine(Path.GetTempPath(), "ember-pack-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
    }

    [TearDown]
    public void TearDown()
    {
        try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static string RepoRoot()
    {
        var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "Framework.sln"))) d = d.Parent;
        return d?.FullName ?? throw new DirectoryNotFoundException("Framework.sln not found above " + TestContext.CurrentContext.TestDirectory);
    }

    /// <summary>Runs dotnet with a clean MSBuild environment (the test host's MSBuild variables would leak into the child build).</summary>
    private static string Dotnet(string workingDir, TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)
                                                            || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
            psi.Environment.Remove(key);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        var output = new StringBuilder();
        using var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {string.Join(' ', args)} did not finish in {timeout.TotalSeconds} s:\n{output}");
        }
        p.WaitForExit();
        Assert.That(p.ExitCode, Is.EqualTo(0), $"dotnet {string.Join(' ', args)} failed:\n{output}");
        return output.ToString();
    }

    [Test]
    public void PackagesRestoreFromAFolderIntoAFreshProjectThatTrains()
    {
        string root = RepoRoot();
        string feed = Path.Combine(work, "feed");
        // A solution filter with every project under src/: one pack invocation, nothing else built.
        var projects = Directory.GetFiles(Path.Combine(root, "src"), "*.csproj", SearchOption.AllDirectories)
                                .Select(p => Path.GetRelativePath(root, p)).Order().ToList();
        string filter = Path.Combine(work, "packages.slnf");
        File.WriteAllText(filter, JsonSerializer.Serialize(new { solution = new { path = Path.Combine(root, "Framework.sln"), projects } }));
        // Release, as CI's test build: the projects are up to date, so this mostly packs.
        Dotnet(root, TimeSpan.FromMinutes(5), "pack", filter, "-c", "Release", "-o", feed, "--disable-build-servers", "-v", "q", "-nologo");

        var packages = Directory.GetFiles(feed, "*.nupkg").Select(Path.GetFileName).ToList();
        foreach (var id in new[] { "Ember.Core", "Ember.Autograd", "Ember.NN", "Ember.Data", "Ember.Visualization", "Ember.Backends.Ilgpu", "Ember.Distributed", "Ember.Onnx" })
        {
            Assert.That(packages, Has.One.Match($@"^{Regex.Escape(id)}\.\d+\.\d+\.\d+.*\.nupkg$"), $"package {id}");
            Assert.That(Directory.GetFiles(feed, id + ".*.snupkg"), Has.Length.EqualTo(1), $"symbols of {id}");
        }
        string version = Regex.Match(packages.First(p => p!.StartsWith("Ember.NN.", StringComparison.Ordinal))!, @"^Ember\.NN\.(.+)\.nupkg$").Groups[1].Value;
        using (var zip = ZipFile.OpenRead(Path.Combine(feed, $"Ember.NN.{version}.nupkg")))
        {
            using var reader = new StreamReader(zip.GetEntry("Ember.NN.nuspec")!.Open());
            string nuspec = reader.ReadToEnd();
            Assert.That(nuspec, Does.Contain("<license type=\"expression\">MIT</license>").And.Contain("<readme>README.md</readme>")
                                    .And.Contain("<authors>Ember contributors</authors>").And.Not.Contain("Package Description"));
            Assert.That(zip.GetEntry("README.md"), Is.Not.Null);
            Assert.That(zip.GetEntry("lib/net10.0/Ember.NN.xml"), Is.Not.Null, "XML docs");
        }

        // The consumer: outside the repository (no Directory.Build.props), packages restored into a private folder so an
        // older build of the same version in the user's cache can never be picked up.
        string app = Path.Combine(work, "app");
        Directory.CreateDirectory(app);
        string globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(work, "packages")}" /></config>
              <packageSources>
                <add key="ember-local" value="{feed}" />
                <add key="machine-cache" value="{globalPackages}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings><Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Ember.NN" Version="{version}" />
                <PackageReference Include="Ember.Data" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), ConsumerProgram);
        string output = Dotnet(app, TimeSpan.FromMinutes(3), "run", "-c", "Release", "--disable-build-servers");

        var m = Regex.Match(output, @"loss (\d+\.\d+) -> (\d+\.\d+)");
        Assert.That(m.Success, Is.True, output);
        double first = double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        double last = double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(last, Is.LessThan(first * 0.5), "the model trained");

        // Restored as packages (not projects), from the local folder; and Ember.Data brought no native libraries.
        using var assets = JsonDocument.Parse(File.ReadAllText(Path.Combine(app, "obj", "project.assets.json")));
        var libraries = assets.RootElement.GetProperty("libraries");
        foreach (var id in new[] { "Ember.Core", "Ember.Autograd", "Ember.NN", "Ember.Data" })
            Assert.That(libraries.GetProperty($"{id}/{version}").GetProperty("type").GetString(), Is.EqualTo("package"), id);
        string bin = Path.Combine(app, "bin", "Release", "net10.0");
        Assert.That(Directory.Exists(Path.Combine(bin, "runtimes")), Is.False, "native runtimes in the consumer's bin folder");
        Assert.That(Directory.GetFiles(bin, "*.so").Concat(Directory.GetFiles(bin, "*.dll")).Select(Path.GetFileName),
                    Has.None.Contains("Skia").And.None.Contains("HarfBuzz").And.None.Contains("ScottPlot"));
    }
}
