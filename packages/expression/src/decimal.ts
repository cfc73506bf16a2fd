/**
 * `decimal()` values: exact base-10 numbers with up to 28 fractional digits, modelled on
 * .NET `System.Decimal` (the Logic Apps runtime type): `string(decimal('1.2345678912312131'))`
 * keeps every digit, arithmetic between decimals stays exact, and the value becomes an ordinary
 * (double) JSON number when it leaves an expression (docs: "as a number it loses precision").
 */

const MAX_SCALE = 28;
const TEN = 10n;
/** Largest .NET decimal mantissa (96 bits): ±79,228,162,514,264,337,593,543,950,335. */
export const DECIMAL_MAX_MANTISSA = 2n ** 96n - 1n;

/** A decimal value outside the .NET `decimal` range (±79228162514264337593543950335). */
export class DecimalOverflowError extends RangeError {
  constructor() {
    super('the value is outside the decimal range ±79228162514264337593543950335');
    this.name = 'DecimalOverflowError';
  }
}

function abs(m: bigint): bigint {
  return m < 0n ? -m : m;
}

function pow10(n: number): bigint {
  return TEN ** BigInt(n);
}

/** Rounds `m / 10^drop` half to even (the .NET rounding of decimal arithmetic). */
function roundDrop(m: bigint, drop: number): bigint {
  if (drop <= 0) return m;
  const d = pow10(drop);
  const q = m / d;
  const r = m % d;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice > d || (twice === d && q % 2n !== 0n)) return m < 0n ? q - 1n : q + 1n;
  return q;
}

/** An exact decimal number: `mantissa × 10^-scale`. Immutable. */
export class WdlDecimal {
  constructor(
    readonly mantissa: bigint,
    readonly scale: number,
  ) {}

  /**
   * Parses decimal text: optional sign, digits with an optional `.` fraction, optional
   * exponent (used when converting JS numbers such as `1e-7`), surrounding white space and
   * `,` group separators in the integer part. Returns undefined when the text is not a number.
   * Exact (no range check, for comparisons): call {@link WdlDecimal.fitted} for a .NET decimal.
   */
  static parse(text: string): WdlDecimal | undefined {
    const m = /^\s*([+-]?)((?:\d[\d,]*)?)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
    if (!m) return undefined;
    const intPart = (m[2] ?? '').replaceAll(',', '');
    const frac = m[3] ?? '';
    if (intPart.length === 0 && frac.length === 0) return undefined;
    let mant = BigInt((intPart || '0') + frac);
    let scale = frac.length - (m[4] ? Number(m[4]) : 0);
    if (scale < 0) {
      mant *= pow10(-scale);
      scale = 0;
    }
    return new WdlDecimal(m[1] === '-' ? -mant : mant, scale);
  }

  /** The decimal closest to a JS number (its shortest round-trip text). */
  static fromNumber(n: number): WdlDecimal {
    if (Number.isInteger(n) && Number.isSafeInteger(n)) return new WdlDecimal(BigInt(n), 0);
    const d = WdlDecimal.parse(String(n));
    if (!d) throw new RangeError(`cannot convert ${n} to a decimal`);
    return d;
  }

  /** The decimal of an integer. */
  static fromBigInt(n: bigint): WdlDecimal {
    return new WdlDecimal(n, 0);
  }

  private align(other: WdlDecimal): [bigint, bigint, number] {
    const s = Math.max(this.scale, other.scale);
    return [this.mantissa * pow10(s - this.scale), other.mantissa * pow10(s - other.scale), s];
  }

  /**
   * This value as a .NET `decimal`: at most 28 fractional digits and a 96-bit mantissa, rounding
   * fractional digits (half to even, once) as .NET does when a value has more digits than fit
   * (`decimal.Parse`, arithmetic results). Throws {@link DecimalOverflowError} when the integer
   * part alone does not fit (.NET `OverflowException`).
   */
  fitted(): WdlDecimal {
    const m = this.mantissa;
    const s = this.scale;
    if (s <= MAX_SCALE && abs(m) <= DECIMAL_MAX_MANTISSA) return this;
    const digits = abs(m).toString().length;
    let drop = Math.min(s, Math.max(s - MAX_SCALE, digits - 29, 0));
    let r = roundDrop(m, drop);
    if (abs(r) > DECIMAL_MAX_MANTISSA && drop < s) r = roundDrop(m, ++drop);
    if (abs(r) > DECIMAL_MAX_MANTISSA) throw new DecimalOverflowError();
    return new WdlDecimal(r, s - drop);
  }

  add(o: WdlDecimal): WdlDecimal {
    const [a, b, s] = this.align(o);
    return new WdlDecimal(a + b, s).fitted();
  }

  sub(o: WdlDecimal): WdlDecimal {
    const [a, b, s] = this.align(o);
    return new WdlDecimal(a - b, s).fitted();
  }

  mul(o: WdlDecimal): WdlDecimal {
    return new WdlDecimal(this.mantissa * o.mantissa, this.scale + o.scale).fitted();
  }

  /** Division rounded to 28 fractional digits, trailing zeros removed down to the dividend's scale. Throws RangeError on division by zero. */
  div(o: WdlDecimal): WdlDecimal {
    if (o.mantissa === 0n) throw new RangeError('division by zero');
    // value = (a / 10^sa) / (b / 10^sb) = a * 10^(sb - sa) / b, computed with MAX_SCALE + 1 digits then rounded.
    const extra = MAX_SCALE + 1;
    const num = this.mantissa * pow10(extra + o.scale);
    const den = o.mantissa * pow10(this.scale);
    let q = num / den;
    let s = extra;
    q = roundDrop(q, 1);
    s -= 1;
    const minScale = Math.max(0, this.scale - o.scale);
    while (s > minScale && q % TEN === 0n) {
      q /= TEN;
      s--;
    }
    return new WdlDecimal(q, s).fitted();
  }

  /** Remainder with the sign of the dividend (.NET `%`). Throws RangeError on division by zero. */
  mod(o: WdlDecimal): WdlDecimal {
    if (o.mantissa === 0n) throw new RangeError('division by zero');
    const [a, b, s] = this.align(o);
    return new WdlDecimal(a % b, s).fitted();
  }

  /** -1, 0 or 1. */
  compare(o: WdlDecimal): number {
    const [a, b] = this.align(o);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  isZero(): boolean {
    return this.mantissa === 0n;
  }

  /** The integer part when the value is whole, else undefined. */
  toBigIntIfWhole(): bigint | undefined {
    const d = pow10(this.scale);
    return this.mantissa % d === 0n ? this.mantissa / d : undefined;
  }

  /** .NET `decimal.ToString()` in the invariant culture: every stored digit, trailing zeros kept. */
  toString(): string {
    const neg = this.mantissa < 0n;
    let digits = (neg ? -this.mantissa : this.mantissa).toString();
    if (this.scale === 0) return (neg ? '-' : '') + digits;
    if (digits.length <= this.scale) digits = '0'.repeat(this.scale - digits.length + 1) + digits;
    const cut = digits.length - this.scale;
    return (neg ? '-' : '') + digits.slice(0, cut) + '.' + digits.slice(cut);
  }

  /** The nearest double. */
  toNumber(): number {
    return Number(this.toString());
  }

  /** JSON.stringify writes decimals as numbers (precision is lost, as in the Logic Apps runtime). */
  toJSON(): number {
    return this.toNumber();
  }
}
