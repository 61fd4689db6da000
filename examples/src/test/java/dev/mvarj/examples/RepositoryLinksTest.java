package dev.mvarj.examples;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The repository explains itself without dead ends: every relative link and {@code #anchor} in its Markdown files
 * resolves, every {@code docs/*.md#anchor} a source file cites exists, and no file cites a document that is not in
 * the repository. Walks the repository root (the first directory above the working directory holding
 * {@code mvnw}), skipping build output, runs and hidden directories.
 */
class RepositoryLinksTest {

    private static final Pattern MD_LINK = Pattern.compile("!?\\[[^\\]]*\\]\\(\\s*<?([^)\\s>]+)>?(?:\\s+\"[^\"]*\")?\\s*\\)");
    private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+(.*?)\\s*#*\\s*$");
    private static final Pattern HTML_ANCHOR = Pattern.compile("<a\\s+(?:id|name)=\"([^\"]+)\"");
    private static final Pattern DOC_CITATION = Pattern.compile("\\bdocs/[\\w./-]+\\.md(?:#[\\w-]+)?");
    private static final Set<String> SKIPPED_DIRS = Set.of("target", "runs", "node_modules");
    private static final List<String> SOURCE_SUFFIXES = List.of(".java", ".py", ".sh", ".cl", ".xml", ".md");

    /** Citations of documents that live outside the repository (spelt in pieces so this file does not match). */
    private static final List<Pattern> OUTSIDE_DOCUMENTS = List.of(
            Pattern.compile("mvar" + "-spec"),
            Pattern.compile("\\bdesign" + "\\.md"),
            Pattern.compile("\\bdesign" + " §"),
            Pattern.compile("\\.\\./" + "shared\\b"),
            Pattern.compile("/work/" + "shared\\b"),
            Pattern.compile("\\bspec" + " §"),
            Pattern.compile("§" + "\\s*\\d"));

    private static final Path ROOT = repositoryRoot();

    @Test
    void everyRelativeLinkAndAnchorInTheMarkdownResolves() {
        List<String> broken = new ArrayList<>();
        for (Path md : files(".md")) {
            for (String target : links(read(md))) {
                String problem = check(md, target);
                if (problem != null) {
                    broken.add(ROOT.relativize(md) + ": " + target + " (" + problem + ")");
                }
            }
        }
        assertThat(broken).as("broken links").isEmpty();
    }

    @Test
    void everyDocsCitationInTheSourcesResolves() {
        List<String> broken = new ArrayList<>();
        for (Path file : sources()) {
            if (file.toString().endsWith(".md")) {
                continue;                                  // Markdown files link properly; checked above
            }
            Matcher m = DOC_CITATION.matcher(read(file));
            while (m.find()) {
                String problem = resolve(ROOT, m.group());
                if (problem != null) {
                    broken.add(ROOT.relativize(file) + ": " + m.group() + " (" + problem + ")");
                }
            }
        }
        assertThat(broken).as("citations of docs/ pages or anchors that do not exist").isEmpty();
    }

    @Test
    void noFileCitesADocumentOutsideTheRepository() {
        List<String> found = new ArrayList<>();
        for (Path file : sources()) {
            String[] lines = read(file).split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                for (Pattern p : OUTSIDE_DOCUMENTS) {
                    if (p.matcher(lines[i]).find()) {
                        found.add(ROOT.relativize(file) + ":" + (i + 1) + ": " + lines[i].strip());
                        break;
                    }
                }
            }
        }
        assertThat(found).as("citations of documents that are not in the repository (cite docs/model.md#section)")
                .isEmpty();
    }

    @Test
    void theCheckerFindsABrokenLinkAndAMissingAnchor() {
        Path readme = ROOT.resolve("README.md");
        assertThat(check(readme, "docs/no-such-page.md")).isNotNull();
        assertThat(check(readme, "docs/model.md#no-such-section")).isNotNull();
        assertThat(check(readme, "docs/model.md#spatial-markov-neighbourhood-attention")).isNull();
        assertThat(anchors("# A `code` title: (x, y)\n## Repeat\n## Repeat\n")).contains("a-code-title-x-y", "repeat",
                "repeat-1");
        assertThat(links("[a](b.md) `[c](d.md)`\n```\n[e](f.md)\n```\n![g](h.png \"t\")"))
                .containsExactly("b.md", "h.png");
    }

    // ------------------------------------------------------------------------------------------------ the checks

    /** Null when {@code target}, a link in {@code md}, resolves; otherwise what is wrong. */
    static String check(Path md, String target) {
        if (target.matches("^[a-zA-Z][a-zA-Z+.-]*:.*")) {
            return null;                                   // http(s), mailto: outside links are allowed
        }
        if (target.startsWith("#")) {
            return anchors(read(md)).contains(target.substring(1)) ? null : "no such anchor in this file";
        }
        return resolve(md.getParent(), target);
    }

    /** Null when {@code path[#anchor]}, relative to {@code dir}, names an existing file (and heading). */
    static String resolve(Path dir, String target) {
        int hash = target.indexOf('#');
        String path = hash < 0 ? target : target.substring(0, hash);
        Path file = dir.resolve(path).normalize();
        if (!file.startsWith(ROOT)) {
            return "points outside the repository";
        }
        if (!Files.exists(file)) {
            return "no such file";
        }
        if (hash >= 0) {
            if (!file.toString().endsWith(".md")) {
                return "anchor into a file that is not Markdown";
            }
            if (!anchors(read(file)).contains(target.substring(hash + 1))) {
                return "no such anchor";
            }
        }
        return null;
    }

    /** Link targets outside fenced code blocks and inline code. */
    static List<String> links(String markdown) {
        List<String> out = new ArrayList<>();
        boolean fenced = false;
        for (String line : markdown.split("\n", -1)) {
            if (line.strip().startsWith("```")) {
                fenced = !fenced;
                continue;
            }
            if (fenced) {
                continue;
            }
            Matcher m = MD_LINK.matcher(line.replaceAll("`[^`]*`", ""));
            while (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }

    /** The anchors GitHub generates for the headings (and explicit {@code <a id>}s) of a Markdown text. */
    static Set<String> anchors(String markdown) {
        Set<String> out = new HashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        boolean fenced = false;
        for (String line : markdown.split("\n", -1)) {
            if (line.strip().startsWith("```")) {
                fenced = !fenced;
                continue;
            }
            Matcher a = HTML_ANCHOR.matcher(line);
            while (a.find()) {
                out.add(a.group(1));
            }
            Matcher h = HEADING.matcher(line);
            if (fenced || !h.matches()) {
                continue;
            }
            String text = h.group(1).replaceAll("\\[([^\\]]*)\\]\\([^)]*\\)", "$1");
            String slug = text.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
            int n = seen.merge(slug, 1, Integer::sum) - 1;
            out.add(n == 0 ? slug : slug + "-" + n);
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ the walk

    private static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("mvnw")) && Files.exists(p.resolve("pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("no repository root (a directory with mvnw) above " + Path.of("").toAbsolutePath());
    }

    private static List<Path> sources() {
        List<Path> out = new ArrayList<>();
        for (String suffix : SOURCE_SUFFIXES) {
            out.addAll(files(suffix));
        }
        out.add(ROOT.resolve("mvarj"));
        out.removeIf(p -> p.getFileName().toString().equals("RepositoryLinksTest.java"));   // its own examples
        return out;
    }

    private static List<Path> files(String suffix) {
        List<Path> out = new ArrayList<>();
        try {
            Files.walkFileTree(ROOT, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
                    boolean skip = !dir.equals(ROOT) && (name.startsWith(".") || SKIPPED_DIRS.contains(name));
                    return skip ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (attrs.isRegularFile() && file.getFileName().toString().endsWith(suffix)) {
                        out.add(file);
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.sort(null);
        return out;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
