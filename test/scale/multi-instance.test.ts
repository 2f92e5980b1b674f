import t from 'tap'
import { multiInstanceSuite } from './multi-instance-suite.js'
import { cleanUpPrefix, sharedRedisUrl } from '../helpers/redis.js'

multiInstanceSuite(t, (t, prefix) => {
  cleanUpPrefix(t, prefix)
  return { REDIS_URL: sharedRedisUrl }
})
