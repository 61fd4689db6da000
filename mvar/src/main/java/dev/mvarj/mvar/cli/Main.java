package dev.mvarj.mvar.cli;

import dev.mvarj.distributed.Distributed;
import dev.mvarj.tensor.cpu.WorkerPool;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The {@code mvarj} command line; {@code ./mvarj} at the repository root starts it.
 *
 * <p>{@link #execute} is the whole program short of {@code System.exit}: it parses, validates, runs and turns every
 * error into one line on the error stream, with exit status {@value #USAGE} for bad input (an option, a file that is
 * not there, a run directory that needs {@code --resume}) and {@value #FAILURE} for a failure while working (a corrupt
 * file, a diverging run). The stack trace is printed only with {@code --verbose} or {@code MVARJ_VERBOSE=1}.
 */
@Command(name = "mvarj", mixinStandardHelpOptions = true, version = "mvarj 0.1.0",
        description = "MVAR (Markovian Visual AutoRegressive modeling) from scratch on the JVM.",
        footer = "Exit status: 0 done, 1 failed while working, 2 bad input. --verbose (or MVARJ_VERBOSE=1) adds the"
                + " stack trace to an error.",
        subcommands = {InfoCommand.class, DemoCommand.class, TrainCommand.class, SampleCommand.class, EditCommand.class, ServeCommand.class, EvalCommand.class,
                MemoryCommand.class, FiguresCommand.class,
                TokenizerCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** Exit status of a command that failed while working. */
    public static final int FAILURE = 1;
    /** Exit status of bad input: an option value, a missing file, a run directory in the way. */
    public static final int USAGE = 2;
    /** The environment variable that turns on stack traces, as {@code --verbose} does. */
    public static final String VERBOSE_ENV = "MVARJ_VERBOSE";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "print the stack trace of an error (also: MVARJ_VERBOSE=1)")
    boolean verbose;

    private final PrintStream out;

    private Main(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) {
        Map<String, String> env = System.getenv();
        if (Distributed.launchedByMpi(env)) {
            String refusal = distributedRefusal(Distributed.launchedRanks(env), args);
            if (refusal != null) {
                System.err.println("mvarj: " + refusal);
                System.exit(USAGE);
            }
            if (System.getProperty(WorkerPool.THREADS_PROPERTY) == null) {
                int usable = Runtime.getRuntime().availableProcessors();
                System.setProperty(WorkerPool.THREADS_PROPERTY, Integer.toString(Distributed.threadsPerRank(usable,
                        Distributed.onlineCpus(usable), env)));
            }
        }
        int status = execute(System.out, System.err, env, args);
        Distributed.finish(status);       // a failed rank aborts the whole job, so no rank waits for it
        System.exit(status);
    }

    /**
     * Why a command line cannot run as one of {@code ranks} ranks of an MPI job, or null: only {@code train} and
     * {@code tokenizer train} are data-parallel (docs/distributed.md); any other command would run N times over
     * the same files.
     */
    static String distributedRefusal(int ranks, String... args) {
        if (ranks <= 1) {
            return null;
        }
        List<String> words = Arrays.stream(args).filter(a -> !a.startsWith("-")).limit(2).toList();
        boolean parallel = !words.isEmpty() && (words.get(0).equals("train")
                || words.size() == 2 && words.get(0).equals("tokenizer") && words.get(1).equals("train"));
        return parallel ? null : "under mpirun with " + ranks + " ranks only 'train' and 'tokenizer train' run"
                + " (data-parallel); start '" + String.join(" ", words) + "' as one process, without mpirun";
    }

    /**
     * Runs the command line {@code args} with {@code out} for results and progress and {@code err} for errors;
     * returns the exit status.
     *
     * @param env the environment ({@value #VERBOSE_ENV} is read from it)
     */
    public static int execute(PrintStream out, PrintStream err, Map<String, String> env, String... args) {
        Main main = new Main(out);
        CommandLine cl = new CommandLine(main);
        PrintWriter errWriter = new PrintWriter(err, true);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(errWriter);
        ErrorReport report = new ErrorReport(errWriter, () -> main.verbose || "1".equals(env.get(VERBOSE_ENV))
                || "true".equalsIgnoreCase(env.get(VERBOSE_ENV)));
        cl.setParameterExceptionHandler(report::usage);
        cl.setExecutionExceptionHandler(report::failure);
        int status;
        try {
            status = cl.execute(args);
        } catch (Throwable t) {                       // an Error picocli does not handle: out of memory, ...
            status = report.fatal(t, cl, args);
        }
        out.flush();
        err.flush();
        return status;
    }

    /** The stream a command of this command line prints its results and progress to. */
    static PrintStream out(CommandLine.Model.CommandSpec spec) {
        return ((Main) spec.root().userObject()).out;
    }

    @Override
    public void run() {
        spec.commandLine().usage(out);
    }
}
