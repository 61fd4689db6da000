package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.data.Datasets;
import dev.mvarj.mvar.data.FashionMnist;
import dev.mvarj.mvar.data.ImageDataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code mvarj serve}: a web page to watch a sample appear scale by scale and to in-paint test images or samples
 * (docs/editing.md#the-page), on the JDK's HTTP server, bound to localhost unless {@code --host} says otherwise.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a page that shows sampling scale by scale and in-paints a drawn mask (Ctrl-C stops).")
public final class ServeCommand implements Callable<Integer> {

    /** The test images the page offers. */
    static final int TEST_IMAGES = 1000;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "port, 0 = a free one (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--data", defaultValue = FashionMnist.DEBIAN_DIR,
            description = "Fashion-MNIST directory, for the test images of a model of Fashion-MNIST (default:"
                    + " ${DEFAULT-VALUE})")
    Path data;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Checks check = new Checks(spec);
        sampling.check(check);
        check.range("--port", port, 0, 65535, false);
        SamplingOptions.Loaded m = sampling.load(check);
        String dataset = m.dataset();
        Scorecard.checkData(check, dataset, data);
        ImageDataset test = Datasets.testImages(dataset, data, TEST_IMAGES);
        String about = m.trained().options().pattern() + " " + sampling.checkpoint + " with " + m.tokenizerFile();
        try (PageServer server = new PageServer(m.trained().model(), m.tokenizer(), m.trained().options().pattern(),
                test, sampling.settings(), about, host, port)) {
            server.warmUp();
            Main.out(spec).println("serving http://" + host + ":" + server.port() + "/ (" + about + "); Ctrl-C stops");
            Main.out(spec).flush();
            new CountDownLatch(1).await();                 // until the process is stopped
        }
        return 0;
    }
}
