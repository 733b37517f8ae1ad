import { post } from './post'

// The post step's bundle (dist/post/index.js): cleanup only, see post.ts.
void post()
