package dev.mvarj.distributed;

import java.util.Map;

/**
 * An MPI call returned an error code, or MPI cannot be used at all (no library, not Open MPI); the message names the
 * call and the error class ({@code MPI_ERR_TRUNCATE}) with the library's own text for it.
 */
public final class MpiException extends RuntimeException {

    private final int code;

    /** A failed call: {@code detail} is the library's text for the code ({@code MPI_Error_string}), or null. */
    public MpiException(String call, int code, String detail) {
        super(call + " failed: " + name(code) + " (" + code + ")" + (detail == null || detail.isBlank() ? ""
                : ": " + detail.strip()));
        this.code = code;
    }

    /** MPI cannot be used: {@code message} says why and what to install. */
    public MpiException(String message, Throwable cause) {
        super(message, cause);
        this.code = -1;
    }

    /** The raw MPI error code, or −1 when MPI could not be loaded. */
    public int code() {
        return code;
    }

    /** The name of an MPI error class (Open MPI's mpi.h numbering, the MPI standard's names). */
    public static String name(int code) {
        return NAMES.getOrDefault(code, "MPI_ERR_UNKNOWN_CODE");
    }

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(0, "MPI_SUCCESS"), Map.entry(1, "MPI_ERR_BUFFER"), Map.entry(2, "MPI_ERR_COUNT"),
            Map.entry(3, "MPI_ERR_TYPE"), Map.entry(4, "MPI_ERR_TAG"), Map.entry(5, "MPI_ERR_COMM"),
            Map.entry(6, "MPI_ERR_RANK"), Map.entry(7, "MPI_ERR_REQUEST"), Map.entry(8, "MPI_ERR_ROOT"),
            Map.entry(9, "MPI_ERR_GROUP"), Map.entry(10, "MPI_ERR_OP"), Map.entry(11, "MPI_ERR_TOPOLOGY"),
            Map.entry(12, "MPI_ERR_DIMS"), Map.entry(13, "MPI_ERR_ARG"), Map.entry(14, "MPI_ERR_UNKNOWN"),
            Map.entry(15, "MPI_ERR_TRUNCATE"), Map.entry(16, "MPI_ERR_OTHER"), Map.entry(17, "MPI_ERR_INTERN"),
            Map.entry(18, "MPI_ERR_IN_STATUS"), Map.entry(19, "MPI_ERR_PENDING"), Map.entry(20, "MPI_ERR_ACCESS"),
            Map.entry(21, "MPI_ERR_AMODE"), Map.entry(22, "MPI_ERR_ASSERT"), Map.entry(23, "MPI_ERR_BAD_FILE"),
            Map.entry(24, "MPI_ERR_BASE"), Map.entry(25, "MPI_ERR_CONVERSION"), Map.entry(26, "MPI_ERR_DISP"),
            Map.entry(27, "MPI_ERR_DUP_DATAREP"), Map.entry(28, "MPI_ERR_FILE_EXISTS"),
            Map.entry(29, "MPI_ERR_FILE_IN_USE"), Map.entry(30, "MPI_ERR_FILE"), Map.entry(31, "MPI_ERR_INFO_KEY"),
            Map.entry(32, "MPI_ERR_INFO_NOKEY"), Map.entry(33, "MPI_ERR_INFO_VALUE"), Map.entry(34, "MPI_ERR_INFO"),
            Map.entry(35, "MPI_ERR_IO"), Map.entry(36, "MPI_ERR_KEYVAL"), Map.entry(37, "MPI_ERR_LOCKTYPE"),
            Map.entry(38, "MPI_ERR_NAME"), Map.entry(39, "MPI_ERR_NO_MEM"), Map.entry(40, "MPI_ERR_NOT_SAME"),
            Map.entry(41, "MPI_ERR_NO_SPACE"), Map.entry(42, "MPI_ERR_NO_SUCH_FILE"), Map.entry(43, "MPI_ERR_PORT"),
            Map.entry(44, "MPI_ERR_QUOTA"), Map.entry(45, "MPI_ERR_READ_ONLY"), Map.entry(46, "MPI_ERR_RMA_CONFLICT"),
            Map.entry(47, "MPI_ERR_RMA_SYNC"), Map.entry(48, "MPI_ERR_SERVICE"), Map.entry(49, "MPI_ERR_SIZE"),
            Map.entry(50, "MPI_ERR_SPAWN"), Map.entry(51, "MPI_ERR_UNSUPPORTED_DATAREP"),
            Map.entry(52, "MPI_ERR_UNSUPPORTED_OPERATION"), Map.entry(53, "MPI_ERR_WIN"));
}
