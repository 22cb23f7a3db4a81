System.Console.WriteLine("perf");
