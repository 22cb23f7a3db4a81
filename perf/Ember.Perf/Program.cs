System.Console.WriteLine("Ember.Perf: workloads land with the NN issue.");
