package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.data.Datasets;
import dev.mvarj.mvar.data.FashionMnist;
import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.model.Sampler;
import dev.mvarj.mvar.train.Runs;
import dev.mvarj.mvar.vq.VqVae;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The page of {@code serve} in a real browser (docs/editing.md#the-page): Debian's headless Chromium driven by
 * chromedriver through Selenium. It skips when they are not installed, unless {@value #REQUIRE} is 1 (CI installs them
 * and sets it). {@code MVARJ_SERVE_CHECKPOINT} serves that checkpoint instead of a tiny one trained here (with
 * {@code MVARJ_SERVE_TOKENIZER}, or the tokenizer it names), and
 * {@code MVARJ_SCREENSHOT} names where to write the screenshot (else target/serve.png).
 */
class PageBrowserTest {

    static final String REQUIRE = "MVARJ_REQUIRE_BROWSER";
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver"), CHROMIUM = Path.of("/usr/bin/chromium");

    @Test
    void thePageShowsASampleScaleByScaleAndInPaintsADrawnMaskKeepingTheRest(@TempDir Path dir) throws Exception {
        boolean present = Files.isExecutable(CHROMEDRIVER) && Files.isExecutable(CHROMIUM);
        if (!"1".equals(System.getenv(REQUIRE))) {
            assumeTrue(present, "Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)");
        }
        assertThat(present).as(REQUIRE + "=1 but " + CHROMIUM + " or " + CHROMEDRIVER + " is missing").isTrue();

        String given = System.getenv("MVARJ_SERVE_CHECKPOINT");
        Path checkpoint;
        if (given != null) {
            checkpoint = Path.of(given);
        } else {
            CliFixture.train(dir.resolve("run"), "--steps", "2").ok();
            checkpoint = dir.resolve("run").resolve("checkpoint.safetensors");
        }
        Runs.Trained t = Runs.load(checkpoint);
        Path tokenizer = Path.of(System.getenv().getOrDefault("MVARJ_SERVE_TOKENIZER", t.state().get("tokenizer")));
        VqVae vae = VqVae.load(tokenizer);
        String dataset = SamplingOptions.datasetOf(tokenizer, vae);
        ImageDataset test = Datasets.testImages(dataset, Path.of(FashionMnist.DEBIAN_DIR), 20);
        int scales = t.model().cfg.schedule().count(), size = vae.config.imageSize();

        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1200,1100");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER.toString())).usingAnyFreePort().build();
        try (PageServer server = new PageServer(t.model(), vae, t.options().pattern(), test,
                new Sampler.Settings(Generation.DEFAULT_CFG, 0, Generation.DEFAULT_TOP_P, 7), checkpoint.getFileName().toString(),
                "127.0.0.1", 0)) {
            server.warmUp();                                                // as serve does before it answers
            ChromeDriver browser = new ChromeDriver(service, options);
            try {
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
                browser.get("http://127.0.0.1:" + server.port() + "/");
                wait.until(b -> new Select(b.findElement(By.id("class"))).getOptions().size() == 11);
                wait.until(b -> !b.findElement(By.id("test-label")).getText().isEmpty());

                // a sample appears scale by scale
                new Select(browser.findElement(By.id("class"))).selectByValue("1");
                browser.findElement(By.id("generate")).click();
                wait.until(b -> b.findElement(By.id("status")).getAttribute("data-ms") != null);
                List<WebElement> shown = browser.findElements(By.cssSelector("#scales figure.scale img"));
                assertThat(shown).hasSize(scales);
                for (WebElement img : shown) {
                    assertThat(img.getAttribute("src")).startsWith("data:image/png;base64,");
                }
                assertThat(browser.findElement(By.id("scales")).getText()).contains("ms").contains("held")
                        .contains("MiB");
                double sampleMs = Double.parseDouble(browser.findElement(By.id("status")).getAttribute("data-ms"));
                System.out.printf("serve page: a full sample with %d per-scale updates in %.0f ms (browser clock); %s%n",
                        scales, sampleMs, browser.findElement(By.id("status")).getText());

                // in-painting: a stroke drawn on test image 0, ALL rule, a class
                WebElement canvas = browser.findElement(By.id("editor"));
                new Actions(browser).moveToElement(canvas, 60, 60).clickAndHold().moveToElement(canvas, 120, 120)
                        .moveToElement(canvas, 120, 60).release().perform();
                new Select(browser.findElement(By.id("rule"))).selectByValue("all");
                new Select(browser.findElement(By.id("class"))).selectByValue("3");
                browser.findElement(By.id("inpaint")).click();
                wait.until(b -> b.findElement(By.id("status")).getAttribute("data-ms") != null
                        && b.findElement(By.id("result")).getAttribute("src").startsWith("data:"));
                assertThat(browser.findElements(By.cssSelector("#scales figure.scale img"))).hasSize(scales);
                List<?> drawn = (List<?>) ((JavascriptExecutor) browser).executeScript("return Array.from(mask)");
                boolean[] mask = new boolean[size * size];
                for (int i = 0; i < mask.length; i++) {
                    mask[i] = ((Number) drawn.get(i)).intValue() == 1;
                }
                float[] result = pixels(browser.findElement(By.id("result")).getAttribute("src"), vae, size);
                float[] recon = vae.decode(vae.encode(test.images(new int[]{0}, null))).toFloatArray();
                double[] far = difference(result, recon, mask, size, 8, true);
                double[] inside = difference(result, recon, mask, size, 0, false);
                System.out.printf("serve page in-painting: %d masked pixels; mean |Δ| vs the reconstruction: %.4f"
                        + " inside the mask (at most %.4f), %.4f on the %d pixels ≥ 8 px from it%n", (int) inside[1],
                        inside[0], inside[2], far[0], (int) far[1]);
                assertThat(inside[1]).as("the stroke masked pixels").isGreaterThan(50);
                assertThat(far[1]).as("pixels far from the stroke").isGreaterThan(50);
                assertThat(far[0]).as("the kept region, 8 px or more from the mask, is unchanged (8-bit PNG)")
                        .isLessThan(0.02);
                assertThat(inside[0]).as("the masked region is regenerated: it moves more than the kept one")
                        .isGreaterThan(2 * far[0]);

                Path shot = Path.of(System.getenv().getOrDefault("MVARJ_SCREENSHOT", "target/serve.png"));
                Files.createDirectories(shot.toAbsolutePath().getParent());
                Files.write(shot, browser.getScreenshotAs(OutputType.BYTES));
            } finally {
                browser.quit();
            }
        }
    }

    /** A PNG data URL of the page as (C, H, W) in [−1, 1]. */
    static float[] pixels(String dataUrl, VqVae vae, int size) {
        byte[] png = Base64.getDecoder().decode(dataUrl.substring(dataUrl.indexOf(',') + 1));
        return Editing.readImage(new Checks(IllegalArgumentException::new), "result", png, vae.config);
    }

    /**
     * Mean |a − b|, the pixel count and the largest |a − b| over the pixels of {@code mask} (H, W) ({@code outside} false) or over those at
     * a Chebyshev distance of at least {@code margin} from every masked pixel ({@code outside} true).
     */
    static double[] difference(float[] a, float[] b, boolean[] mask, int size, int margin, boolean outside) {
        int hw = size * size, c = a.length / hw, count = 0;
        double sum = 0, max = 0;
        for (int p = 0; p < hw; p++) {
            boolean take = outside ? distance(mask, size, p) >= margin : mask[p];
            if (take) {
                count++;
                for (int ch = 0; ch < c; ch++) {
                    sum += Math.abs(a[ch * hw + p] - b[ch * hw + p]);
                    max = Math.max(max, Math.abs(a[ch * hw + p] - b[ch * hw + p]));
                }
            }
        }
        return new double[]{count == 0 ? 0 : sum / (count * c), count, max};
    }

    private static int distance(boolean[] mask, int size, int p) {
        int y = p / size, x = p % size, best = Integer.MAX_VALUE;
        for (int q = 0; q < mask.length; q++) {
            if (mask[q]) {
                best = Math.min(best, Math.max(Math.abs(q / size - y), Math.abs(q % size - x)));
            }
        }
        return best;
    }
}
