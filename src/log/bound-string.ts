/** The cut every logged string gets; alone in its module so key validation (also run by the Node tools) can use it. */
import { MAX_LOG_VALUE_CHARS } from '../config/constants.ts';

export const TRUNCATION_MARK = '…';

export function boundString(value: string): string {
  return value.length <= MAX_LOG_VALUE_CHARS ? value : value.slice(0, MAX_LOG_VALUE_CHARS) + TRUNCATION_MARK;
}
