/** The in-process flow runner: run loop, command executor, clocks. */
export {
  runFlow,
  type RunFlowOptions,
  type RunFlowResult,
  type ChildFlow,
  type ChildFlowResolver,
  type HistorySink,
} from './run-flow.js';
export {
  executeAction,
  httpRequestOf,
  type ConnectorCall,
  type ConnectorInvoker,
  type ChildFlowRunner,
  type ExecutorDeps,
} from './executor.js';
export { realClock, scaledClock, virtualClock, type RunnerClock, type TimerHandle } from './clock.js';
