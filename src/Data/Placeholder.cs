namespace Ember; internal static class Placeholder_Data { }
