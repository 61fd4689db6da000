package dev.mvarj.mvar.train;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * A training run's output directory, held for the length of the run:
 * <ul>
 *   <li>locked ({@value #LOCK}, an OS file lock that dies with the process): a second run into the directory is
 *       refused with the first one's pid, host and start time;</li>
 *   <li>checked against how the run starts: a directory that already holds a run (a checkpoint or metrics) is
 *       continued only with {@link Start#RESUME} and replaced only with {@link Start#OVERWRITE};</li>
 *   <li>cleaned: temporary files that a killed checkpoint or metrics write left behind ({@code .<name>.<hex>.tmp},
 *       see {@code SafeTensors.write}) are removed.</li>
 * </ul>
 */
public final class RunDirectory implements AutoCloseable {

    /** How a run starts in its directory. */
    public enum Start {
        /** A new run: refused when the directory holds one. */
        FRESH,
        /** Continue the run in the directory from its checkpoint (a new run when there is none). */
        RESUME,
        /** A new run that replaces the one in the directory (its checkpoint, metrics and loss chart are deleted). */
        OVERWRITE
    }

    /** The lock file inside the run directory. */
    public static final String LOCK = ".lock";
    /** The metrics file inside the run directory. */
    public static final String METRICS = "metrics.jsonl";

    private final Path dir;
    private final FileChannel channel;
    private final FileLock lock;
    private final boolean resumes;

    private RunDirectory(Path dir, FileChannel channel, FileLock lock, boolean resumes) {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
        this.resumes = resumes;
    }

    /**
     * Creates and locks {@code dir}, removes stale temporary files and applies {@code start}.
     *
     * @param checkpoint the run's checkpoint file name inside {@code dir}
     * @param log        where the removed files are reported
     * @throws RunException when another run holds the directory, or it holds a run and {@code start} is FRESH
     */
    public static RunDirectory open(Path dir, String checkpoint, Start start, PrintStream log) throws IOException {
        Files.createDirectories(dir);
        Path lockFile = dir.resolve(LOCK);
        FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {      // held by this JVM
            lock = null;
        }
        if (lock == null) {
            String holder = Files.readString(lockFile, StandardCharsets.UTF_8).strip();
            ch.close();
            throw RunException.failed(dir + " is in use by another run (" + (holder.isEmpty() ? "holder unknown"
                    : holder) + "); wait for it to finish or choose another --out");
        }
        try {
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(holder().getBytes(StandardCharsets.UTF_8)), 0);
            ch.force(false);
            removeStaleTemporaries(dir, log);
            Path ckpt = dir.resolve(checkpoint), metrics = dir.resolve(METRICS);
            boolean holdsRun = Files.exists(ckpt) || Files.exists(metrics);
            if (holdsRun && start == Start.FRESH) {
                throw RunException.refused(dir + " already holds a run (" + (Files.exists(ckpt) ? ckpt.getFileName()
                        : metrics.getFileName()) + "); add --resume to continue it or --overwrite to replace it");
            }
            if (start == Start.OVERWRITE) {
                for (Path p : List.of(ckpt, metrics, dir.resolve("loss.png"))) {
                    if (Files.deleteIfExists(p)) {
                        log.println("--overwrite: deleted " + p);
                    }
                }
            }
            return new RunDirectory(dir, ch, lock, start == Start.RESUME && Files.exists(ckpt));
        } catch (IOException | RuntimeException e) {
            lock.release();
            ch.close();
            throw e;
        }
    }

    /** Whether the run continues from the directory's checkpoint. */
    public boolean resumes() {
        return resumes;
    }

    public Path dir() {
        return dir;
    }

    private static String holder() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "unknown host";
        }
        return String.format(Locale.ROOT, "pid %d on %s, since %s", ProcessHandle.current().pid(), host,
                Instant.now().truncatedTo(ChronoUnit.SECONDS));
    }

    /** Deletes {@code .<name>.<hex>.tmp} files in {@code dir}: writes that a killed run never finished. */
    private static void removeStaleTemporaries(Path dir, PrintStream log) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(RunDirectory::isTemporary).toList()) {
                long bytes = Files.size(p);
                Files.deleteIfExists(p);
                log.printf(Locale.ROOT, "removed %s (%.1f MiB), a write that a killed run left unfinished%n", p,
                        bytes / 1048576.0);
            }
        }
    }

    /** Whether {@code p} is a temporary file as {@code SafeTensors.write} and {@link MetricsLog} name them. */
    static boolean isTemporary(Path p) {
        return p.getFileName().toString().matches("\\..+\\.[0-9a-f]+\\.tmp") && Files.isRegularFile(p);
    }

    /** Releases the lock (the lock file stays: deleting it could let two runs lock two different files). */
    @Override
    public void close() throws IOException {
        try {
            if (lock.isValid()) {
                channel.truncate(0);
                lock.release();
            }
        } finally {
            channel.close();
        }
    }
}
