package dev.mvarj.mvar.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code mvarj} command line; {@code ./mvarj} at the repository root starts it. */
@Command(name = "mvarj", mixinStandardHelpOptions = true, version = "mvarj 0.1.0",
        description = "MVAR (Markovian Visual AutoRegressive modeling) from scratch on the JVM.",
        subcommands = {InfoCommand.class, DemoCommand.class, TrainCommand.class, SampleCommand.class, EvalCommand.class,
                MemoryCommand.class, FiguresCommand.class,
                TokenizerCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
