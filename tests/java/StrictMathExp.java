// Golden values of e^x from Java's StrictMath.exp (fdlibm's e_exp.c: native fdlibm up to JDK 20,
// its line-by-line Java port from JDK 21), for core/src/exp.rs's test: an independent copy of the
// algorithm our branch-free `exp` must equal bit for bit.
//
//     java tests/java/StrictMathExp.java > tests/data/exp/strict_math.txt
//
// Each line is the bits of x and of StrictMath.exp(x), in hex, for x <= 0 (the engine's `exp` takes
// no other). The inputs are seeded: fdlibm's case bounds (the high words 0x3fd62e42, 0x3ff0a2b2,
// 0x3e300000, 0x40862e42) a few ulps either side, the band |x| in [2^-28, 2^-28 (1 + 2^-20)) where
// musl's copy differs, subnormal results, the underflow bound, random -gap/time decays and
// magnitudes.
import java.util.SplittableRandom;

public class StrictMathExp {
    static void emit(double x) {
        System.out.printf("%016x %016x%n", Double.doubleToRawLongBits(x),
                Double.doubleToRawLongBits(StrictMath.exp(x)));
    }

    public static void main(String[] args) {
        SplittableRandom random = new SplittableRandom(16);
        long[] words = {0x3fd62e42L, 0x3ff0a2b2L, 0x3e300000L, 0x40862e42L};
        for (long word : words) {
            for (long low : new long[] {0L, 1L, 0xffffffffL, 0xfffffffeL}) {
                emit(Double.longBitsToDouble((1L << 63) | (word << 32) | low));
            }
        }
        for (int i = 0; i < 200; i++) {
            emit(Double.longBitsToDouble((1L << 63) | (0x3e300000L << 32) | (random.nextLong() & 0xffffffffL)));
        }
        double[] bounds = {745.13321910194110842, 708.39641853226410622, 1.0, 0.5};
        for (double b : bounds) {
            for (int step = -3; step <= 3; step++) {
                emit(-Double.longBitsToDouble(Double.doubleToRawLongBits(b) + step));
            }
        }
        emit(0.0);
        emit(-0.0);
        emit(Double.NEGATIVE_INFINITY);
        for (int i = 0; i < 100; i++) {
            emit(-708.4 - 36.8 * random.nextDouble());
        }
        for (int i = 0; i < 200; i++) {
            long gap = random.nextLong() >>> random.nextInt(64);
            double time = 1 + random.nextLong(86_400_000_000_000L);
            emit(-(double) gap / time);
        }
        for (int i = 0; i < 200; i++) {
            double m = Math.pow(2, random.nextDouble() * 72 - 64);
            emit(-m);
        }
        for (int i = 0; i < 100; i++) {
            emit(-750 * random.nextDouble());
        }
    }
}
