/* float_probe.c: a float multiply, which the Cortex-M0 has no instruction
 * for: check-mcu builds it to see floats.sh find __aeabi_fmul (a check that
 * would pass anything is no check). */
float mcu_float_probe(float a, int b) {
    return a * (float)b;
}
