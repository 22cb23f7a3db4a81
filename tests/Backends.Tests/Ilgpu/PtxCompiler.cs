using System.Reflection;
using Ember.Ilgpu;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>
/// ILGPU's PTX code generation for the tests (no GPU or CUDA driver needed): Ember's context (its algorithm and math
/// settings), SM 9.0 as the H100, PTX ISA 8.0 (the driver there offers 8.8).
/// </summary>
internal static class PtxCompiler
{
    /// <summary>A PTX backend for SM 9.0 / ISA 8.0 in Ember's context (dispose it).</summary>
    private static PTXBackend NewBackend() => new(IlgpuContext.Shared.Context, new CudaCapabilityContext(CudaArchitecture.SM_90),
        CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null);

    /// <summary>The compiled kernel of an explicitly grouped kernel method (its PTX may still be replaced).</summary>
    public static PTXCompiledKernel CompileGrouped(MethodInfo method)
    {
        using var backend = NewBackend();
        return (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(method), KernelSpecialization.Empty);
    }

    /// <summary>The PTX of an explicitly grouped kernel method (Group.* indices, launched with a group size).</summary>
    public static string Grouped(MethodInfo method) => CompileGrouped(method).PTXAssembly;

    /// <summary>The PTX of an implicitly grouped kernel method (an Index1D/2D/3D first parameter).</summary>
    public static string AutoGrouped(MethodInfo method)
    {
        using var backend = NewBackend();
        return ((PTXCompiledKernel)backend.Compile(EntryPointDescription.FromImplicitlyGroupedKernel(method), KernelSpecialization.Empty)).PTXAssembly;
    }
}
