package dev.mvarj.gpu;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import java.io.PrintWriter;
import java.util.Arrays;

/**
 * Runs the named test classes on the JUnit Platform and prints one line per test, then a summary; exits 0 when
 * every test passed, 1 otherwise. For the device check (tools/gpu-run.sh) on a machine without Maven: the classes
 * are selected by name, so no class-path scanning is needed (the check's jlinked runtime carries only the modules
 * the project uses).
 * <pre>java -cp benchmarks.jar:tests/* dev.mvarj.gpu.DeviceTestRunner dev.mvarj.gpu.OpenClKernelsTest ...</pre>
 */
public final class DeviceTestRunner {

    private DeviceTestRunner() {
    }

    public static void main(String[] classes) {
        if (classes.length == 0) {
            System.err.println("usage: DeviceTestRunner TEST_CLASS...");
            System.exit(2);
        }
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(Arrays.stream(classes).map(DiscoverySelectors::selectClass).toList()).build();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        TestExecutionListener lines = new TestExecutionListener() {
            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (id.isTest()) {
                    System.out.printf("%-8s %s%n", result.getStatus(), id.getLegacyReportingName() + " ("
                            + id.getParentIdObject().map(Object::toString).orElse("") .replaceAll(".*class:([^\\]]*).*", "$1")
                            + ")");
                }
            }
        };
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, summary, lines);
        TestExecutionSummary s = summary.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        s.printFailuresTo(out, 20);
        s.printTo(out);
        System.exit(s.getTotalFailureCount() == 0 && s.getTestsFoundCount() > 0 ? 0 : 1);
    }
}
