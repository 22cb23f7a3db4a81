namespace Ember; internal static class Placeholder_Core { }
