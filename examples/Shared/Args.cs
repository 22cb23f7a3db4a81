using System.Globalization;

namespace Ember.Examples;

/// <summary>A tiny command-line reader shared by the examples: <c>--name value</c> options, <c>--flag</c> switches, <c>--help</c>.</summary>
internal sealed class Args
{
    private readonly Dictionary<string, string?> values = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<(string Name, string Default, string Help)> options = [];
    private readonly string usage;

    public Args(string[] argv, string usage)
    {
        this.usage = usage;
        for (int i = 0; i < argv.Length; i++)
        {
            if (!argv[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{argv[i]}' (options start with --; try --help)");
            var name = argv[i][2..];
            string? value = null;
            int eq = name.IndexOf('=');
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            else if (i + 1 < argv.Length && !argv[i + 1].StartsWith("--", StringComparison.Ordinal)) value = argv[++i];
            values[name] = value;
        }
    }

    public bool Help => values.ContainsKey("help") || values.ContainsKey("h");

    public string Get(string name, string @default, string help)
    {
        options.Add((name, @default, help));
        return values.TryGetValue(name, out var v) && v is not null ? v : @default;
    }

    public int Int(string name, int @default, string help) => int.Parse(Get(name, @default.ToString(CultureInfo.InvariantCulture), help), CultureInfo.InvariantCulture);

    public double Double(string name, double @default, string help) => double.Parse(Get(name, @default.ToString(CultureInfo.InvariantCulture), help), CultureInfo.InvariantCulture);

    public bool Flag(string name, string help)
    {
        options.Add((name, "off", help));
        return values.ContainsKey(name);
    }

    /// <summary>
    /// The <c>--amp</c> option: null (off, the default), BFloat16 (<c>bf16</c>) or Float16 (<c>fp16</c>): the dtype the
    /// training step's forward pass runs under <see cref="Autocast"/>.
    /// </summary>
    public DType? Amp()
    {
        var v = Get("amp", "off", "mixed precision: off, bf16 (autocast bfloat16) or fp16 (autocast float16 with a GradScaler)");
        return v.ToLowerInvariant() switch
        {
            "off" or "none" or "fp32" => null,
            "bf16" or "bfloat16" => DType.BFloat16,
            "fp16" or "float16" => DType.Float16,
            _ => throw new ArgumentException($"--amp: expected off, bf16 or fp16, got '{v}'"),
        };
    }

    /// <summary>Prints the usage when --help was given; returns true if it did (the program should exit).</summary>
    public bool PrintHelpIfAsked()
    {
        if (!Help) return false;
        Console.WriteLine(usage);
        Console.WriteLine();
        Console.WriteLine("Options:");
        foreach (var (n, d, h) in options) Console.WriteLine($"  --{n,-16} {h} (default: {d})");
        Console.WriteLine($"  --{"help",-16} show this help");
        return true;
    }

    /// <summary>Loads a GPU backend assembly when a non-CPU device is asked for, so its module initializer registers it.</summary>
    public static Device ResolveDevice(string name)
    {
        if (!name.Equals("cpu", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var asm = System.Reflection.Assembly.Load("Ember.Backends.Ilgpu");
                System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(asm.ManifestModule.ModuleHandle);
            }
            catch (FileNotFoundException) { /* Device.Parse reports the missing backend */ }
        }
        return name.Equals("best", StringComparison.OrdinalIgnoreCase) ? Device.Best() : Device.Parse(name);
    }
}
