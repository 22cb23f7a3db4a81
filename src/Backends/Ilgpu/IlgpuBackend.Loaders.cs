using ILGPU;
using ILGPU.Runtime;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <summary>Loads (once per device) an auto-grouped kernel with 2 parameters besides its index.</summary>
    internal static Action<Index1D, A, B> LoadKernel<A, B>(IlgpuDevice d, Action<Index1D, A, B> kernel) where A : struct where B : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadAutoGroupedStreamKernel(k));

    /// <summary>Loads (once per device) an auto-grouped kernel with 3 parameters besides its index.</summary>
    internal static Action<Index1D, A, B, C> LoadKernel<A, B, C>(IlgpuDevice d, Action<Index1D, A, B, C> kernel) where A : struct where B : struct where C : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadAutoGroupedStreamKernel(k));

    /// <summary>Loads (once per device) an auto-grouped kernel with 4 parameters besides its index.</summary>
    internal static Action<Index1D, A, B, C, D> LoadKernel<A, B, C, D>(IlgpuDevice d, Action<Index1D, A, B, C, D> kernel) where A : struct where B : struct where C : struct where D : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadAutoGroupedStreamKernel(k));

    /// <summary>Loads (once per device) an auto-grouped kernel with 5 parameters besides its index.</summary>
    internal static Action<Index1D, A, B, C, D, E> LoadKernel<A, B, C, D, E>(IlgpuDevice d, Action<Index1D, A, B, C, D, E> kernel) where A : struct where B : struct where C : struct where D : struct where E : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadAutoGroupedStreamKernel(k));

    /// <summary>Loads (once per device) an auto-grouped kernel with 6 parameters besides its index.</summary>
    internal static Action<Index1D, A, B, C, D, E, F> LoadKernel<A, B, C, D, E, F>(IlgpuDevice d, Action<Index1D, A, B, C, D, E, F> kernel) where A : struct where B : struct where C : struct where D : struct where E : struct where F : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadAutoGroupedStreamKernel(k));

    /// <summary>Loads (once per device) an auto-grouped kernel with 7 parameters besides its index.</summary>
    internal static Action<Index1D, A, B, C, D, E, F, G> LoadKernel<A, B, C, D, E, F, G>(IlgpuDevice d, Action<Index1D, A, B, C, D, E, F, G> kernel) where A : struct where B : struct where C : struct where D : struct where E : struct where F : struct where G : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadAutoGroupedStreamKernel(k));

    /// <summary>Loads (once per device) an auto-grouped kernel with 8 parameters besides its index.</summary>
    internal static Action<Index1D, A, B, C, D, E, F, G, H> LoadKernel<A, B, C, D, E, F, G, H>(IlgpuDevice d, Action<Index1D, A, B, C, D, E, F, G, H> kernel) where A : struct where B : struct where C : struct where D : struct where E : struct where F : struct where G : struct where H : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadAutoGroupedStreamKernel(k));

    /// <summary>Loads (once per device) an auto-grouped kernel with 9 parameters besides its index.</summary>
    internal static Action<Index1D, A, B, C, D, E, F, G, H, I> LoadKernel<A, B, C, D, E, F, G, H, I>(IlgpuDevice d, Action<Index1D, A, B, C, D, E, F, G, H, I> kernel) where A : struct where B : struct where C : struct where D : struct where E : struct where F : struct where G : struct where H : struct where I : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadAutoGroupedStreamKernel(k));

    /// <summary>Loads (once per device) an auto-grouped kernel with 10 parameters besides its index.</summary>
    internal static Action<Index1D, A, B, C, D, E, F, G, H, I, J> LoadKernel<A, B, C, D, E, F, G, H, I, J>(IlgpuDevice d, Action<Index1D, A, B, C, D, E, F, G, H, I, J> kernel) where A : struct where B : struct where C : struct where D : struct where E : struct where F : struct where G : struct where H : struct where I : struct where J : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadAutoGroupedStreamKernel(k));

    /// <summary>Loads (once per device) an auto-grouped kernel with 11 parameters besides its index.</summary>
    internal static Action<Index1D, A, B, C, D, E, F, G, H, I, J, K> LoadKernel<A, B, C, D, E, F, G, H, I, J, K>(IlgpuDevice d, Action<Index1D, A, B, C, D, E, F, G, H, I, J, K> kernel) where A : struct where B : struct where C : struct where D : struct where E : struct where F : struct where G : struct where H : struct where I : struct where J : struct where K : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadAutoGroupedStreamKernel(k));

    /// <summary>Loads (once per device) an auto-grouped kernel with 12 parameters besides its index.</summary>
    internal static Action<Index1D, A, B, C, D, E, F, G, H, I, J, K, L> LoadKernel<A, B, C, D, E, F, G, H, I, J, K, L>(IlgpuDevice d, Action<Index1D, A, B, C, D, E, F, G, H, I, J, K, L> kernel) where A : struct where B : struct where C : struct where D : struct where E : struct where F : struct where G : struct where H : struct where I : struct where J : struct where K : struct where L : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadAutoGroupedStreamKernel(k));

    /// <summary>Loads (once per device) an auto-grouped kernel with 13 parameters besides its index.</summary>
    internal static Action<Index1D, A, B, C, D, E, F, G, H, I, J, K, L, M> LoadKernel<A, B, C, D, E, F, G, H, I, J, K, L, M>(IlgpuDevice d, Action<Index1D, A, B, C, D, E, F, G, H, I, J, K, L, M> kernel) where A : struct where B : struct where C : struct where D : struct where E : struct where F : struct where G : struct where H : struct where I : struct where J : struct where K : struct where L : struct where M : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadAutoGroupedStreamKernel(k));

    /// <summary>Loads (once per device) an explicitly grouped kernel with 2 parameters, launched with a <see cref="KernelConfig"/>.</summary>
    internal static Action<KernelConfig, A, B> LoadGroupedKernel<A, B>(IlgpuDevice d, Action<A, B> kernel) where A : struct where B : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadStreamKernel(k));

    /// <summary>Loads (once per device) an explicitly grouped kernel with 3 parameters, launched with a <see cref="KernelConfig"/>.</summary>
    internal static Action<KernelConfig, A, B, C> LoadGroupedKernel<A, B, C>(IlgpuDevice d, Action<A, B, C> kernel) where A : struct where B : struct where C : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadStreamKernel(k));

    /// <summary>Loads (once per device) an explicitly grouped kernel with 4 parameters, launched with a <see cref="KernelConfig"/>.</summary>
    internal static Action<KernelConfig, A, B, C, D> LoadGroupedKernel<A, B, C, D>(IlgpuDevice d, Action<A, B, C, D> kernel) where A : struct where B : struct where C : struct where D : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadStreamKernel(k));

    /// <summary>Loads (once per device) an explicitly grouped kernel with 5 parameters, launched with a <see cref="KernelConfig"/>.</summary>
    internal static Action<KernelConfig, A, B, C, D, E> LoadGroupedKernel<A, B, C, D, E>(IlgpuDevice d, Action<A, B, C, D, E> kernel) where A : struct where B : struct where C : struct where D : struct where E : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadStreamKernel(k));

    /// <summary>Loads (once per device) an explicitly grouped kernel with 6 parameters, launched with a <see cref="KernelConfig"/>.</summary>
    internal static Action<KernelConfig, A, B, C, D, E, F> LoadGroupedKernel<A, B, C, D, E, F>(IlgpuDevice d, Action<A, B, C, D, E, F> kernel) where A : struct where B : struct where C : struct where D : struct where E : struct where F : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadStreamKernel(k));

    /// <summary>Loads (once per device) an explicitly grouped kernel with 7 parameters, launched with a <see cref="KernelConfig"/>.</summary>
    internal static Action<KernelConfig, A, B, C, D, E, F, G> LoadGroupedKernel<A, B, C, D, E, F, G>(IlgpuDevice d, Action<A, B, C, D, E, F, G> kernel) where A : struct where B : struct where C : struct where D : struct where E : struct where F : struct where G : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadStreamKernel(k));

    /// <summary>Loads (once per device) an explicitly grouped kernel with 8 parameters, launched with a <see cref="KernelConfig"/>.</summary>
    internal static Action<KernelConfig, A, B, C, D, E, F, G, H> LoadGroupedKernel<A, B, C, D, E, F, G, H>(IlgpuDevice d, Action<A, B, C, D, E, F, G, H> kernel) where A : struct where B : struct where C : struct where D : struct where E : struct where F : struct where G : struct where H : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadStreamKernel(k));

    /// <summary>Loads (once per device) an explicitly grouped kernel with 9 parameters, launched with a <see cref="KernelConfig"/>.</summary>
    internal static Action<KernelConfig, A, B, C, D, E, F, G, H, I> LoadGroupedKernel<A, B, C, D, E, F, G, H, I>(IlgpuDevice d, Action<A, B, C, D, E, F, G, H, I> kernel) where A : struct where B : struct where C : struct where D : struct where E : struct where F : struct where G : struct where H : struct where I : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadStreamKernel(k));

    /// <summary>Loads (once per device) an explicitly grouped kernel with 10 parameters, launched with a <see cref="KernelConfig"/>.</summary>
    internal static Action<KernelConfig, A, B, C, D, E, F, G, H, I, J> LoadGroupedKernel<A, B, C, D, E, F, G, H, I, J>(IlgpuDevice d, Action<A, B, C, D, E, F, G, H, I, J> kernel) where A : struct where B : struct where C : struct where D : struct where E : struct where F : struct where G : struct where H : struct where I : struct where J : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadStreamKernel(k));

    /// <summary>Loads (once per device) an explicitly grouped kernel with 11 parameters, launched with a <see cref="KernelConfig"/>.</summary>
    internal static Action<KernelConfig, A, B, C, D, E, F, G, H, I, J, K> LoadGroupedKernel<A, B, C, D, E, F, G, H, I, J, K>(IlgpuDevice d, Action<A, B, C, D, E, F, G, H, I, J, K> kernel) where A : struct where B : struct where C : struct where D : struct where E : struct where F : struct where G : struct where H : struct where I : struct where J : struct where K : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadStreamKernel(k));

    /// <summary>Loads (once per device) an explicitly grouped kernel with 12 parameters, launched with a <see cref="KernelConfig"/>.</summary>
    internal static Action<KernelConfig, A, B, C, D, E, F, G, H, I, J, K, L> LoadGroupedKernel<A, B, C, D, E, F, G, H, I, J, K, L>(IlgpuDevice d, Action<A, B, C, D, E, F, G, H, I, J, K, L> kernel) where A : struct where B : struct where C : struct where D : struct where E : struct where F : struct where G : struct where H : struct where I : struct where J : struct where K : struct where L : struct =>
        d.Kernels.Get(kernel, static (acc, k) => acc.LoadStreamKernel(k));
}
