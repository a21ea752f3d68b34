// The local runtime's IAM policy evaluator: @cloud-copilot/iam-simulate, one simulation per line.
//
//   node simulate.mjs <install dir holding node_modules>
//
// In, on stdin, one JSON object per line: {"id", "simulation": iam-simulate's Simulation}.
// Out, on stdout, one line per request, in order: {"id", "result": "Allowed" | "ImplicitlyDenied" |
// "ExplicitlyDenied", "denials": [{policyType, denialType}]} or {"id", "error": {...}} when the simulator refuses
// the request (an unknown action, a resource of the wrong type, a policy that is not valid).
import { createRequire } from 'node:module'
import readline from 'node:readline'

const require = createRequire(`${process.argv[2]}/`)
const { runSimulation, getDenialReasons, isWildcardOnlyAction } = require('@cloud-copilot/iam-simulate')

for await (const line of readline.createInterface({ input: process.stdin })) {
  const { id, simulation } = JSON.parse(line)
  let reply
  try {
    const [service, action] = simulation.request.action.split(':')
    if (await isWildcardOnlyAction(service, action)) {
      simulation.request.resource.resource = '*' // AWS authorizes these on no particular resource
    }
    const outcome = await runSimulation(simulation, {})
    if (outcome.resultType === 'error') {
      reply = { id, error: outcome.errors }
    } else {
      const analysis = outcome.resultType === 'single' ? outcome.result.analysis : undefined
      const denied = outcome.overallResult !== 'Allowed'
      reply = { id, result: outcome.overallResult, denials: denied && analysis ? getDenialReasons(analysis) : [] }
    }
  } catch (error) {
    reply = { id, error: { message: String(error) } }
  }
  process.stdout.write(`${JSON.stringify(reply)}\n`)
}
