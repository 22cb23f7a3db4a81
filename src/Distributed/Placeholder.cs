namespace Ember; internal static class Placeholder_Distributed { }
