import { describe, expect, it } from 'vitest';
import { toolSet } from './tools.js';

describe('SCOUT_MCP_TOOLS', () => {
  it('chooses the listed set, all by default, and refuses anything else', () => {
    expect(toolSet({})).toBe('all');
    expect(toolSet({ SCOUT_MCP_TOOLS: ' Granular ' })).toBe('granular');
    expect(toolSet({ SCOUT_MCP_TOOLS: 'scout' })).toBe('scout');
    expect(() => toolSet({ SCOUT_MCP_TOOLS: 'read-only' })).toThrow("SCOUT_MCP_TOOLS must be all, scout or granular, got 'read-only'");
  });
});
